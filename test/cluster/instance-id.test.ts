import { afterEach, describe, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { initialize, mcp } from '../streamable-helpers.ts'
import { startCluster, type TestCluster, waitFor } from './cluster-helpers.ts'

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.[Symbol.asyncDispose]()
  cluster = undefined
})

const ping = (base: URL, sessionId: string) =>
  mcp(base, sessionId, {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  })

describe('two instances given the same --instance-id', () => {
  // An operator's slip (the same --instance-id, or `--workers N --instance-id web` on two hosts):
  // the id is a label; routing must not take one instance for the other.
  test('still reach each other’s sessions, and each hears the other’s changes', async () => {
    cluster = await startCluster(2, { instanceId: 'web' })
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    expect(a.instanceId).toBe(b.instanceId)
    const onA = (await initialize(a.url)).sessionId
    const onB = (await initialize(b.url)).sessionId
    expect((await ping(b.url, onA)).status).toBe(200)
    expect((await ping(a.url, onB)).status).toBe(200)
    const heard: string[] = []
    b.changes.subscribe((event) => heard.push(event.kind))
    a.changes.publish({ kind: 'promptsListChanged' })
    await waitFor('B to hear A’s change', () => heard.length === 1)
    expect(heard).toEqual(['promptsListChanged'])
    // Each has a heartbeat of its own.
    const redis = new Redis(cluster.redis.url)
    try {
      expect((await redis.keys('sluice:instance:*')).length).toBe(2)
    } finally {
      redis.disconnect()
    }
  }, 20_000)
})

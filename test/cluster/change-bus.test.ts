import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { Type } from '@sinclair/typebox'
import { startCluster, type TestCluster, waitFor } from './cluster-helpers.ts'

let cluster: TestCluster

beforeEach(async () => {
  cluster = await startCluster(2)
})
afterEach(async () => {
  await cluster[Symbol.asyncDispose]()
})

async function connectV2(base: URL): Promise<Client> {
  const client = new Client(
    { name: 'cluster-v2', version: '2.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  )
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', base)))
  return client
}

describe('the change bus across instances', () => {
  test('a 2026 listen stream on A hears a tool added on B, once', async () => {
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const client = await connectV2(a.url)
    try {
      let heard = 0
      const changed = Promise.withResolvers<void>()
      client.setNotificationHandler('notifications/tools/list_changed', () => {
        heard++
        changed.resolve()
      })
      const subscription = await client.listen({ toolsListChanged: true })
      b.tool('late', { description: 'Added on B.', input: Type.Object({}) }, () => 'late')
      await changed.promise
      expect(heard).toBe(1)
      await subscription.close()
    } finally {
      await client.close()
    }
  })

  test('an instance hears its own publish once, not again through Redis', async () => {
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const onA: string[] = []
    const onB: string[] = []
    a.changes.subscribe((e) => onA.push(e.kind))
    b.changes.subscribe((e) => onB.push(e.kind))
    a.notifyResourceUpdated('config://one')
    // B hearing it proves the message went through Redis, and so came back to A's subscriber too.
    await waitFor('B to hear the update', () => onB.length === 1)
    b.notifyResourceUpdated('config://two')
    await waitFor('A to hear B', () => onA.length === 2)
    expect(onA).toEqual(['resourceUpdated', 'resourceUpdated'])
    expect(onB).toEqual(['resourceUpdated', 'resourceUpdated'])
  })
})

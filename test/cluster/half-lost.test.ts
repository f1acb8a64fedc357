import { afterEach, describe, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { SseReader } from '../helpers.ts'
import { initialize, mcp } from '../streamable-helpers.ts'
import { startCluster, type TestCluster, waitFor } from './cluster-helpers.ts'

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.[Symbol.asyncDispose]()
  cluster = undefined
})

/**
 * Closes, from Redis's side, the connections of one instance only (as Redis does to a subscriber
 * past its output buffer limit, or a network blip on one host): the other instance stays connected.
 */
async function dropConnectionsOf(redisUrl: string, instanceId: string): Promise<void> {
  const admin = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await admin.connect()
  try {
    const list = (await admin.client('LIST')) as string
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=sluice:${instanceId} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    expect(ids.length).toBe(2)
    for (const id of ids) await admin.client('KILL', 'ID', String(id))
  } finally {
    admin.disconnect()
  }
}

const gauge = async (base: URL, name: string) => {
  const text = await (await fetch(new URL('/metrics', base))).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`))
  return Number(line?.split(' ').pop())
}

async function relayedStream(via: URL, sessionId: string) {
  const response = await mcp(via, sessionId, {
    method: 'GET',
    headers: { accept: 'text/event-stream' },
  })
  expect(response.status).toBe(200)
  return new SseReader(response)
}

async function untilEnd(reader: SseReader): Promise<void> {
  while ((await reader.next()) !== undefined) {}
}

describe('one instance loses its Redis connections while the other keeps them', () => {
  test('the asking instance: its relay ends, and the home releases the stream once told', async () => {
    cluster = await startCluster(2)
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const stream = await relayedStream(b.url, sessionId)
    await waitFor('the stream to open on A', () => a.sessions.streamsOpen === 1)

    await dropConnectionsOf(cluster.redis.url, b.instanceId)
    await untilEnd(stream)
    await waitFor('B to be back', async () => (await gauge(b.url, 'sluice_redis_connected')) === 1)
    // The abort B could not send while away reaches A once B is back.
    await waitFor('the stream on A to close', () => a.sessions.streamsOpen === 0, 5_000)
    await waitFor(
      'A to serve no relay',
      async () => (await gauge(a.url, 'sluice_relays_in_flight')) === 0,
      5_000,
    )
    expect(await gauge(b.url, 'sluice_relays_in_flight')).toBe(0)
  }, 20_000)

  test('the home: the relay it dropped ends at the asking instance once the home is back', async () => {
    cluster = await startCluster(2)
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const stream = await relayedStream(b.url, sessionId)
    await waitFor('the stream to open on A', () => a.sessions.streamsOpen === 1)

    await dropConnectionsOf(cluster.redis.url, a.instanceId)
    // A aborts what it served (its chunks cannot travel); B must not wait for them forever.
    await waitFor('the stream on A to close', () => a.sessions.streamsOpen === 0)
    const ended = untilEnd(stream).then(() => true)
    await waitFor(
      'B to see the relay end',
      async () => (await gauge(b.url, 'sluice_relays_in_flight')) === 0,
      5_000,
    )
    expect(await ended).toBe(true)
    expect(await gauge(a.url, 'sluice_relays_in_flight')).toBe(0)
  }, 20_000)
})

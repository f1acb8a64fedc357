import { afterEach, describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import Redis from 'ioredis'
import type { ChangeEvent } from '../../server/protocol/change-bus.ts'
import { SseReader } from '../helpers.ts'
import { initialize, mcp } from '../streamable-helpers.ts'
import { spawnInstance, startCluster, type TestCluster, waitFor } from './cluster-helpers.ts'
import { startRedis } from './redis-server.ts'

const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
const ping = (base: URL, sessionId: string) =>
  mcp(base, sessionId, { method: 'POST', headers: { accept: 'application/json' }, body: PING })

/** The session's standalone stream, opened through `base`; resolves once it is open. */
async function openStream(base: URL, sessionId: string) {
  const response = await mcp(base, sessionId, {
    method: 'GET',
    headers: { accept: 'text/event-stream' },
  })
  expect(response.status).toBe(200)
  return new SseReader(response)
}

/** Reads until the stream ends. */
async function untilEnd(reader: SseReader): Promise<void> {
  while ((await reader.next()) !== undefined) {}
}

async function metricsText(base: URL): Promise<string> {
  return (await fetch(new URL('/metrics', base))).text()
}

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.[Symbol.asyncDispose]()
  cluster = undefined
})

describe('cluster failures', () => {
  // SIGKILL closes the instance's sockets (Redis sees its subscriber go at once); SIGSTOP leaves
  // them open, as a hung process or a lost host would: only the heartbeat's TTL tells.
  test.each(['SIGKILL', 'SIGSTOP'] as const)(
    'an instance stopped by %s: its sessions are taken over by the other within the heartbeat TTL',
    async (signal) => {
      const ttlMs = 1_000
      const redis = await startRedis()
      const a = await spawnInstance(redis.url, ttlMs)
      const b = await spawnInstance(redis.url, ttlMs)
      try {
        const onA = (await initialize(a.url)).sessionId
        const onB = (await initialize(b.url)).sessionId
        await waitFor('A to be reachable through B', async () => (await ping(b.url, onA)).ok)
        const relayed = await openStream(b.url, onA)
        a.child.kill(signal)
        if (signal === 'SIGKILL') await a.child.exited
        const stoppedAt = performance.now()
        // Until A's heartbeat is gone the request is relayed to A and fails; then B takes over.
        await waitFor('the session of A to be taken over by B', async () => {
          const response = await ping(b.url, onA)
          await response.arrayBuffer()
          return response.status === 200
        })
        const elapsedMs = performance.now() - stoppedAt
        console.log(
          `${signal}: the instance's session was taken over after ${Math.round(elapsedMs)} ms (TTL ${ttlMs} ms)`,
        )
        expect(await metricsText(b.url)).toMatch(/^sluice_sessions_adopted_total\{[^}]*\} 1$/m)
        expect((await ping(b.url, onA)).status).toBe(200)
        expect((await ping(b.url, onB)).status).toBe(200)
        // The stream B relayed from A ended once A's heartbeat was gone.
        await untilEnd(relayed)
        // The stream, and any ping that was relayed before the heartbeat expired.
        expect(await metricsText(b.url)).toMatch(
          /^sluice_relays_lost_total\{[^}]*reason="home_gone"[^}]*\} [1-9]\d*$/m,
        )
      } finally {
        a.child.kill('SIGKILL')
        b.child.kill('SIGKILL')
        await Promise.all([a.child.exited, b.child.exited])
        await redis.stop()
      }
    },
  )

  test('Redis restart: 503 while away, then reconnected, records rewritten, lists announced', async () => {
    cluster = await startCluster(2)
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    expect((await ping(b.url, sessionId)).status).toBe(200)
    const heard: ChangeEvent['kind'][] = []
    a.changes.subscribe((event) => heard.push(event.kind))
    const relayed = await openStream(b.url, sessionId)
    await waitFor('the stream to open on A', () => a.sessions.streamsOpen === 1)

    await cluster.redis.kill()
    // A relay in flight cannot survive: its chunks travel through Redis.
    await untilEnd(relayed)
    expect(await metricsText(b.url)).toMatch(
      /^sluice_relays_lost_total\{[^}]*reason="redis_lost"[^}]*\} 1$/m,
    )
    await waitFor('B to see Redis gone', async () => {
      const response = await ping(b.url, sessionId)
      await response.arrayBuffer()
      return response.status === 503 && response.headers.get('retry-after') !== null
    })
    // The session itself keeps working on its home.
    expect((await ping(a.url, sessionId)).status).toBe(200)

    await cluster.redis.restart()
    const restartedAt = performance.now()
    for (const s of [a, b]) {
      await waitFor('the instance to reconnect', async () =>
        (await metricsText(s.url)).includes(`sluice_redis_connected{instance="${s.instanceId}"} 1`),
      )
      expect(await metricsText(s.url)).toContain(
        `sluice_redis_reconnects_total{instance="${s.instanceId}"} 1`,
      )
    }
    // The restarted Redis was empty: the record of A's session was written again.
    await waitFor('the old session to cross again', async () => (await ping(b.url, sessionId)).ok)
    console.log(
      `cross-instance requests worked again ${Math.round(performance.now() - restartedAt)} ms after Redis was back`,
    )
    const fresh = (await initialize(a.url)).sessionId
    await waitFor('a new session to cross', async () => (await ping(b.url, fresh)).ok)
    expect(heard).toEqual(['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'])
  })
})

describe('a Redis that hangs (its sockets open, nothing answers)', () => {
  test('a request for a session held elsewhere answers 503 with Retry-After, not never', async () => {
    cluster = await startCluster(2)
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    expect((await ping(b.url, sessionId)).status).toBe(200)
    cluster.redis.pause()
    try {
      const answer = await Promise.race([
        ping(b.url, sessionId),
        Bun.sleep(15_000).then(() => undefined),
      ])
      expect(answer?.status).toBe(503)
      expect(answer?.headers.get('retry-after')).not.toBeNull()
      // The session keeps working on its home.
      expect((await ping(a.url, sessionId)).status).toBe(200)
    } finally {
      cluster.redis.resume()
    }
    await waitFor('the session to cross again', async () => (await ping(b.url, sessionId)).ok)
  }, 30_000)
})

describe('a heartbeat that lapsed while its instance lives (a stall, a slow Redis)', () => {
  test('a session taken over meanwhile ends on the instance when it beats again', async () => {
    cluster = await startCluster(2)
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    expect((await ping(b.url, sessionId)).status).toBe(200)
    const redis = new Redis(cluster.redis.url)
    try {
      // As if A's key had expired: B takes A for gone.
      const [heartbeat] = await redis.keys(`sluice:instance:${a.instanceId}/*`)
      if (!heartbeat) throw new Error('A has no heartbeat key')
      await redis.del(heartbeat)
      // B takes the session over (its state is in the record) and serves it.
      expect((await ping(b.url, sessionId)).status).toBe(200)
      expect(b.sessions.get(sessionId)).toBeDefined()
      // A beats again (every third of the TTL), finds its key had lapsed and its record taken:
      // its copy ends, and its requests for the session go to B.
      await waitFor('A to end its copy', () => a.sessions.get(sessionId) === undefined, 5_000)
      expect((await ping(a.url, sessionId)).status).toBe(200)
      await waitFor('A to beat again', async () => (await redis.exists(heartbeat)) === 1, 5_000)
      expect(await redis.exists(heartbeat)).toBe(1)
    } finally {
      redis.disconnect()
    }
  }, 20_000)
})

describe('the asking instance dies mid-relay', () => {
  test('the home ends what it served for it: its stream closes within the heartbeat TTL', async () => {
    const ttlMs = 1_000
    cluster = await startCluster(1, { instanceTtlMs: ttlMs })
    const [a] = cluster.instances
    if (!a) throw new Error('one instance expected')
    const b = await spawnInstance(cluster.redis.url, ttlMs)
    try {
      const { sessionId } = await initialize(a.url)
      await waitFor('A to be reachable through B', async () => (await ping(b.url, sessionId)).ok)
      const relayed = await openStream(b.url, sessionId)
      await waitFor('the stream to open on A', () => a.sessions.streamsOpen === 1)
      b.child.kill('SIGKILL')
      await b.child.exited
      await relayed.next().catch(() => undefined)
      await waitFor('the stream on A to close', () => a.sessions.streamsOpen === 0, 10_000)
      await waitFor(
        'A to serve no relay',
        async () => /^sluice_relays_in_flight\{[^}]*\} 0$/m.test(await metricsText(a.url)),
        5_000,
      )
      // The session itself lives on: its client may open its stream again.
      expect((await ping(a.url, sessionId)).status).toBe(200)
    } finally {
      b.child.kill('SIGKILL')
      await b.child.exited
    }
  }, 30_000)
})

describe('a copy taken over that ends on its old home before it beats again', () => {
  test('leaves the record and events of the new home alone', async () => {
    // A long TTL: A does not beat again during the test, so its copy lives on meanwhile.
    cluster = await startCluster(2, { instanceTtlMs: 60_000 })
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const redis = new Redis(cluster.redis.url)
    try {
      const stream = await openStream(a.url, sessionId)
      const events = `sluice:events:${sessionId}`
      a.tool('extra', { description: 'Extra', input: Type.Object({}) }, () => 'ok')
      for (;;) {
        const frame = await stream.nextEvent()
        if (!frame) throw new Error('the stream ended')
        if (frame.data?.includes('list_changed')) break
      }
      await waitFor('the event to be stored', async () => (await redis.exists(events)) === 1)
      // As if A's key had expired: B takes the session over.
      const [heartbeat] = await redis.keys(`sluice:instance:${a.instanceId}/*`)
      if (!heartbeat) throw new Error('A has no heartbeat key')
      await redis.del(heartbeat)
      expect((await ping(b.url, sessionId)).status).toBe(200)
      expect(b.sessions.get(sessionId)).toBeDefined()
      // A's copy ends there (here its client deletes it) before A learns of the takeover.
      expect((await mcp(a.url, sessionId, { method: 'DELETE' })).status).toBe(200)
      expect(a.sessions.get(sessionId)).toBeUndefined()
      // The session is B's: a request through A reaches it (A looks it up on the connection
      // its deletes went through, so after them).
      expect((await ping(a.url, sessionId)).status).toBe(200)
      const record = (await redis.get(`sluice:session:${sessionId}`)) ?? ''
      expect(record.startsWith(`${b.instanceId}/`)).toBe(true)
      expect(await redis.exists(events)).toBe(1)
    } finally {
      redis.disconnect()
    }
  }, 20_000)
})

describe('a session that ends while its home cannot reach Redis', () => {
  test('its record is deleted once the home is back', async () => {
    cluster = await startCluster(1)
    const [a] = cluster.instances
    if (!a) throw new Error('one instance expected')
    const { sessionId } = await initialize(a.url)
    const record = `sluice:session:${sessionId}`
    const admin = new Redis(cluster.redis.url)
    try {
      await waitFor('the record', async () => (await admin.exists(record)) === 1)
      // Redis drops A's connections and answers nothing for a while: A cannot reconnect yet.
      const list = (await admin.client('LIST')) as string
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=sluice:${a.instanceId} `))
        .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      expect(ids.length).toBe(2)
      const paused = admin.multi()
      for (const id of ids) paused.client('KILL', 'ID', String(id))
      paused.call('CLIENT', 'PAUSE', '3000', 'ALL')
      await paused.exec()
      const connected = () => /^sluice_redis_connected 1$/m.test(a.metrics.registry.render())
      await waitFor('A to lose Redis', () => !connected())
      expect((await mcp(a.url, sessionId, { method: 'DELETE' })).status).toBe(200)
      await waitFor('A to be back', connected, 10_000)
      await waitFor('the record to be deleted', async () => (await admin.exists(record)) === 0)
    } finally {
      admin.disconnect()
    }
  }, 20_000)
})

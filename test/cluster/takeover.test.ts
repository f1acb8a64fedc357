import { afterEach, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { Type } from '@sinclair/typebox'
import Redis from 'ioredis'
import { openLegacyStream, post, SseReader } from '../helpers.ts'
import { initialize, mcp } from '../streamable-helpers.ts'
import { spawnInstance, startCluster, type TestCluster, waitFor } from './cluster-helpers.ts'
import { type RedisProcess, startRedis } from './redis-server.ts'

const TTL_MS = 1_000
const GROW = JSON.stringify({
  jsonrpc: '2.0',
  id: 9,
  method: 'tools/call',
  params: { name: 'grow', arguments: {} },
})
/** Calls `grow` in `sessionId` on `base`: every session there hears tools/list_changed. */
async function grow(base: URL, sessionId: string) {
  const response = await mcp(base, sessionId, {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: GROW,
  })
  expect(response.status).toBe(200)
  await response.arrayBuffer()
}
const PING = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' })
const ping = (base: URL, sessionId: string) =>
  mcp(base, sessionId, { method: 'POST', headers: { accept: 'application/json' }, body: PING })

type Instance = Awaited<ReturnType<typeof spawnInstance>>

async function metric(base: URL, name: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', base))).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
}

/** The next list_changed event on a raw standalone stream (skipping priming and comments). */
async function nextChange(reader: SseReader) {
  for (;;) {
    const frame = await reader.nextEvent()
    if (!frame) throw new Error('the stream ended')
    if (frame.data?.includes('list_changed')) return frame
  }
}

let redis: RedisProcess | undefined
let command: Redis | undefined
const children: Instance[] = []
let cluster: TestCluster | undefined

async function start(count: number, args: string[] = []) {
  redis = await startRedis()
  command = new Redis(redis.url, { lazyConnect: true })
  await command.connect()
  for (let i = 0; i < count; i++) {
    children.push(
      await spawnInstance(redis.url, TTL_MS, [
        '--instance-id',
        `i${i}`,
        '--tools',
        'test/fixtures/growing-tools.ts',
        ...args,
      ]),
    )
  }
  // The tools module is loaded once the instance listens: wait for it.
  for (const child of children) {
    const { sessionId } = await initialize(child.url)
    await waitFor('the tools module to be loaded', async () => {
      const response = await mcp(child.url, sessionId, {
        method: 'POST',
        headers: { accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      })
      return (await response.text()).includes('"grow"')
    })
    await mcp(child.url, sessionId, { method: 'DELETE' })
  }
  return children
}

/** SIGKILLs an instance and waits until its heartbeat is gone. */
async function kill(instance: Instance, id: string) {
  instance.child.kill('SIGKILL')
  await instance.child.exited
  await waitFor(
    'the heartbeat to expire',
    async () => (await command!.keys(`sluice:instance:${id}/*`)).length === 0,
  )
}

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGKILL')
    await c.child.exited
  }
  command?.disconnect()
  command = undefined
  await redis?.stop()
  redis = undefined
  await cluster?.[Symbol.asyncDispose]()
  cluster = undefined
})

describe('takeover of a dead home', () => {
  test('the SDK client carries on on B with the same session: stream resumed, tools work', async () => {
    const [a, b] = await start(2)
    if (!a || !b) throw new Error('two instances expected')
    let target = a.url
    const via = ((input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input)
      url.host = target.host
      return fetch(url, init)
    }) as typeof fetch
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', a.url), {
      fetch: via,
      reconnectionOptions: {
        initialReconnectionDelay: 100,
        maxReconnectionDelay: 500,
        reconnectionDelayGrowFactor: 1.5,
        maxRetries: 100,
      },
    })
    const client = new Client({ name: 'takeover', version: '1.0.0' })
    const heard: number[] = []
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      heard.push(heard.length + 1)
    })
    await client.connect(transport)
    const sessionId = transport.sessionId ?? ''
    for (let n = 1; n <= 3; n++) {
      await client.callTool({ name: 'grow', arguments: {} })
      await waitFor('A to deliver the change', () => heard.length >= n)
    }
    const before = heard.length

    await kill(a, 'i0')
    target = b.url
    // The next request lands on B: B takes the session over and serves it.
    const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
    expect(result.content).toEqual([{ type: 'text', text: '5' }])
    expect(transport.sessionId).toBe(sessionId)
    expect(await metric(b.url, 'sluice_sessions_adopted_total')).toBe(1)
    // The SDK's GET reconnects with Last-Event-ID on B and the stream continues live.
    // Once the SDK's GET is back (resumed with Last-Event-ID on B), changes reach it live.
    await waitFor(
      'the SDK to resume its stream on B',
      async () => (await metric(b.url, 'sluice_sse_streams_open')) > 0,
    )
    await client.callTool({ name: 'grow', arguments: {} })
    await waitFor('B to deliver a change on the resumed stream', () => heard.length > before)
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo')
    await client.close()
  }, 30_000)

  test('a GET with Last-Event-ID on B replays what A sent after that id, then continues', async () => {
    const [a, b] = await start(2)
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const response = await mcp(a.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    })
    expect(response.status).toBe(200)
    const reader = new SseReader(response)
    const sent = []
    for (let n = 0; n < 3; n++) {
      const next = nextChange(reader)
      await grow(a.url, sessionId)
      sent.push(await next)
    }
    const ids = sent.map((f) => f.id)
    expect(new Set(ids).size).toBe(3)
    // The Redis Stream holds them.
    expect(await command!.xlen(`sluice:events:${sessionId}`)).toBe(3)

    await kill(a, 'i0')
    const resumed = await mcp(b.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': ids[0] ?? '' },
    })
    expect(resumed.status).toBe(200)
    const again = new SseReader(resumed)
    const replayed = [await nextChange(again), await nextChange(again)]
    expect(replayed.map((f) => [f.id, f.data])).toEqual(sent.slice(1).map((f) => [f.id, f.data]))
    const next = nextChange(again)
    await grow(b.url, sessionId)
    const live = await next
    // Numbering continues after the highest id A used.
    const seq = (id: string | undefined) => Number(id?.split('_')[1])
    expect(seq(live.id)).toBe(seq(ids[2]) + 1)
    expect((await ping(b.url, sessionId)).status).toBe(200)
    expect(await metric(b.url, 'sluice_sessions_adopted_total')).toBe(1)
  }, 30_000)

  test('two instances racing to take one session over: one wins, both serve it', async () => {
    const [a, b, c] = await start(3)
    if (!a || !b || !c) throw new Error('three instances expected')
    const { sessionId } = await initialize(a.url)
    await waitFor('the record to carry the state', async () =>
      ((await command!.get(`sluice:session:${sessionId}`)) ?? '').includes('protocolVersion'),
    )
    await kill(a, 'i0')
    const answers = await Promise.all([ping(b.url, sessionId), ping(c.url, sessionId)])
    expect(answers.map((r) => r.status)).toEqual([200, 200])
    const adopted = [
      await metric(b.url, 'sluice_sessions_adopted_total'),
      await metric(c.url, 'sluice_sessions_adopted_total'),
    ]
    expect(adopted.sort()).toEqual([0, 1])
    const record = (await command!.get(`sluice:session:${sessionId}`)) ?? ''
    expect(['i1', 'i2']).toContain(record.split('/')[0] ?? '')
  }, 30_000)

  test('a legacy session of a dead home answers 404: its stream was the session', async () => {
    const [a, b] = await start(2)
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId, reader } = await openLegacyStream(a.url)
    await waitFor(
      'the legacy record',
      async () => (await command!.exists(`sluice:session:${sessionId}`)) === 1,
    )
    await kill(a, 'i0')
    void reader
    const message = new URL(`/message?sessionId=${sessionId}`, b.url)
    const response = await post(message, { jsonrpc: '2.0', id: 1, method: 'ping' })
    expect(response.status).toBe(404)
    expect(await metric(b.url, 'sluice_sessions_adopted_total')).toBe(0)
  }, 30_000)

  test('the Redis Stream of a session is capped, and deleted when the session is', async () => {
    cluster = await startCluster(1, { replayEvents: 4 })
    const [a] = cluster.instances
    if (!a) throw new Error('one instance expected')
    const watcher = new Redis(cluster.redis.url)
    try {
      const { sessionId } = await initialize(a.url)
      const response = await mcp(a.url, sessionId, {
        method: 'GET',
        headers: { accept: 'text/event-stream' },
      })
      const reader = new SseReader(response)
      const total = 300
      for (let n = 0; n < total; n++) {
        const next = nextChange(reader)
        a.tool(`grown_${n}`, { description: 'Grown', input: Type.Object({}) }, () => 'ok')
        await next
      }
      const key = `sluice:events:${sessionId}`
      await waitFor(
        'the writes to land',
        async () => (await metric(a.url, 'sluice_event_store_writes_total')) === total,
      )
      const length = await watcher.xlen(key)
      console.log(`${total} events sent, the Redis Stream holds ${length} (cap ~4)`)
      expect(length).toBeGreaterThanOrEqual(4)
      // Approximate trimming leaves at most one stream node (100 entries by default) of slack.
      expect(length).toBeLessThanOrEqual(4 + 100)
      expect(await watcher.pttl(key)).toBeGreaterThan(0)
      expect((await mcp(a.url, sessionId, { method: 'DELETE' })).status).toBe(200)
      await waitFor('the stream to be deleted', async () => (await watcher.exists(key)) === 0)
      expect(await watcher.exists(`sluice:session:${sessionId}`)).toBe(0)
    } finally {
      watcher.disconnect()
    }
  }, 30_000)
})

describe('a takeover refused at a limit', () => {
  test('the session answers 404 and leaves nothing in Redis', async () => {
    const [a, b] = await start(2, ['--max-sessions', '1'])
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const response = await mcp(a.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    })
    const reader = new SseReader(response)
    const next = nextChange(reader)
    await grow(a.url, sessionId)
    await next
    await waitFor(
      'the event to be stored',
      async () => (await command!.exists(`sluice:events:${sessionId}`)) === 1,
    )
    // B holds its one session: no room for another.
    const filler = await initialize(b.url)
    expect(filler.response.status).toBe(200)
    await kill(a, 'i0')
    const refused = await ping(b.url, sessionId)
    expect(refused.status).toBe(404)
    expect(await metric(b.url, 'sluice_sessions_adopted_total')).toBe(0)
    expect(await command!.exists(`sluice:session:${sessionId}`)).toBe(0)
    expect(await command!.exists(`sluice:events:${sessionId}`)).toBe(0)
    expect((await ping(b.url, filler.sessionId)).status).toBe(200)
  }, 30_000)
})

describe('event numbering across a takeover', () => {
  test('a stream quiet for longer than the session TTL resumes on B after its last id', async () => {
    const [a, b] = await start(2, ['--session-ttl-ms', '2000'])
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const response = await mcp(a.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    })
    const reader = new SseReader(response)
    let last: Awaited<ReturnType<typeof nextChange>> | undefined
    for (let n = 0; n < 3; n++) {
      const next = nextChange(reader)
      await grow(a.url, sessionId)
      last = await next
    }
    const key = `sluice:events:${sessionId}`
    await waitFor('the events to be stored', async () => (await command!.xlen(key)) === 3)
    // The open stream keeps the session alive; it stays quiet for longer than the session TTL.
    const quietUntil = performance.now() + 3_000
    await waitFor('the quiet time to pass', () => performance.now() > quietUntil, 6_000)
    expect(await command!.exists(key)).toBe(1)

    await kill(a, 'i0')
    // A POST reaches B first (as with the SDK): B takes the session over.
    expect((await ping(b.url, sessionId)).status).toBe(200)
    const resumed = await mcp(b.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': last?.id ?? '' },
    })
    expect(resumed.status).toBe(200)
    const again = new SseReader(resumed)
    const next = nextChange(again)
    await grow(b.url, sessionId)
    const seq = (id: string | undefined) => Number(id?.split('_')[1])
    expect(seq((await next).id)).toBe(seq(last?.id) + 1)
  }, 30_000)
})

describe('what an adopted session holds', () => {
  test('its restored replay window is kept within --replay-bytes, as on its home', async () => {
    const replayBytes = 300
    const [a, b] = await start(2, ['--replay-bytes', String(replayBytes)])
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const response = await mcp(a.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    })
    const reader = new SseReader(response)
    const total = 20
    let stored = 0
    for (let n = 0; n < total; n++) {
      const next = nextChange(reader)
      await grow(a.url, sessionId)
      stored += Buffer.byteLength((await next).data ?? '')
    }
    await waitFor(
      'the events to be stored',
      async () => (await command!.xlen(`sluice:events:${sessionId}`)) === total,
    )
    expect(stored).toBeGreaterThan(2 * replayBytes)
    // A held at most --replay-bytes of them for replay.
    expect(await metric(a.url, 'sluice_buffered_bytes')).toBeLessThanOrEqual(replayBytes)
    await kill(a, 'i0')
    // A notification reaches B first: B takes the session over and sends nothing yet.
    const notified = await mcp(b.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
    expect(notified.status).toBe(202)
    expect(await metric(b.url, 'sluice_sessions_adopted_total')).toBe(1)
    const held = await metric(b.url, 'sluice_buffered_bytes')
    expect(held).toBeGreaterThan(0)
    expect(held).toBeLessThanOrEqual(replayBytes)
  }, 30_000)
})

describe('a Last-Event-ID that names no position the home reached', () => {
  test('does not break the numbering of the session taken over', async () => {
    const [a, b] = await start(2)
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const response = await mcp(a.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    })
    const reader = new SseReader(response)
    let last: Awaited<ReturnType<typeof nextChange>> | undefined
    for (let n = 0; n < 3; n++) {
      const next = nextChange(reader)
      await grow(a.url, sessionId)
      last = await next
    }
    await waitFor(
      'the events to be stored',
      async () => (await command!.xlen(`sluice:events:${sessionId}`)) === 3,
    )
    await kill(a, 'i0')
    // Beyond what a number can count exactly: not a position the home can have reached.
    const bogus = await mcp(b.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': '0_99999999999999999999' },
    })
    expect(bogus.status).toBe(400)
    expect(await metric(b.url, 'sluice_sessions_adopted_total')).toBe(1)
    const fresh = await mcp(b.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
    })
    expect(fresh.status).toBe(200)
    const again = new SseReader(fresh)
    const next = nextChange(again)
    await grow(b.url, sessionId)
    const bound = Bun.sleep(10_000).then(() => undefined)
    const live = await Promise.race([next, bound])
    const seq = (id: string | undefined) => Number(id?.split('_')[1])
    expect(seq(live?.id)).toBe(seq(last?.id) + 1)
  }, 30_000)
})

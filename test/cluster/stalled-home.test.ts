import { afterEach, describe, expect, test } from 'bun:test'
import Redis from 'ioredis'
import { initialize, mcp } from '../streamable-helpers.ts'
import { spawnInstance, waitFor } from './cluster-helpers.ts'
import { type RedisProcess, startRedis } from './redis-server.ts'

const TTL_MS = 1_000
const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
const ping = (base: URL, sessionId: string) =>
  mcp(base, sessionId, { method: 'POST', headers: { accept: 'application/json' }, body: PING })

type Instance = Awaited<ReturnType<typeof spawnInstance>>

async function metric(base: URL, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(new URL('/metrics', base))).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
}

/**
 * Sends a ping over a raw connection and resolves once its bytes are written (the kernel accepts
 * them even from a stopped process); `answer` is the whole answer, once it arrives.
 */
async function rawPing(base: URL, sessionId: string): Promise<{ answer: Promise<string> }> {
  const answer = Promise.withResolvers<string>()
  let text = ''
  const socket = await Bun.connect({
    hostname: base.hostname,
    port: Number(base.port),
    socket: {
      data(_socket, chunk) {
        text += chunk.toString()
        if (text.includes('"result"')) answer.resolve(text)
      },
      close() {
        answer.resolve(text)
      },
      error(_socket, err) {
        answer.reject(err)
      },
    },
  })
  const head = [
    'POST /mcp HTTP/1.1',
    `host: ${base.host}`,
    'content-type: application/json',
    'accept: application/json, text/event-stream',
    `mcp-session-id: ${sessionId}`,
    'mcp-protocol-version: 2025-11-25',
    `content-length: ${PING.length}`,
    'connection: close',
  ]
  const written = socket.write(`${head.join('\r\n')}\r\n\r\n${PING}`)
  if (written !== Buffer.byteLength(`${head.join('\r\n')}\r\n\r\n${PING}`)) {
    throw new Error('the request was not written whole')
  }
  return { answer: answer.promise.finally(() => socket.end()) }
}

let redis: RedisProcess | undefined
let command: Redis | undefined
const children: Instance[] = []

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.child.kill('SIGCONT')
    c.child.kill('SIGKILL')
    await c.child.exited
  }
  command?.disconnect()
  command = undefined
  await redis?.stop()
  redis = undefined
})

/**
 * Instances i0, i1, ...: i0 with a short heartbeat TTL (it is the one that stalls), the others
 * with a long one, so that a busy machine does not make their heartbeats lapse too.
 */
async function start(count: number, args: string[] = []): Promise<Instance[]> {
  redis = await startRedis()
  command = new Redis(redis.url, { lazyConnect: true })
  await command.connect()
  for (let i = 0; i < count; i++) {
    const ttl = i === 0 ? TTL_MS : 10 * TTL_MS
    children.push(await spawnInstance(redis.url, ttl, ['--instance-id', `i${i}`, ...args]))
  }
  // An instance says `listening` before it has joined: wait for every heartbeat.
  await waitFor(
    'every instance to join',
    async () => (await command!.keys('sluice:instance:*')).length === count,
  )
  return children
}

describe('a home that stalled while its session was taken over', () => {
  test('coming back, it does not serve its stale copy: the request goes to the new home', async () => {
    const [a, b] = await start(2)
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    await waitFor('the record to carry the state', async () =>
      ((await command!.get(`sluice:session:${sessionId}`)) ?? '').includes('protocolVersion'),
    )
    // A hangs (its sockets stay open); once its heartbeat is gone, B takes the session over.
    a.child.kill('SIGSTOP')
    await waitFor(
      'the heartbeat of A to expire',
      async () => (await command!.keys('sluice:instance:i0/*')).length === 0,
    )
    expect((await ping(b.url, sessionId)).status).toBe(200)
    expect(await metric(b.url, 'sluice_sessions_adopted_total')).toBe(1)

    // The client still talks to A; its request waits in A's socket until A runs again.
    const late = await rawPing(a.url, sessionId)
    a.child.kill('SIGCONT')
    expect(await late.answer).toStartWith('HTTP/1.1 200')
    // B's copy is the session: A relayed the request to it rather than answer from its own.
    expect(await metric(a.url, 'sluice_relays_total')).toBe(1)
    await waitFor(
      'A to end its stale copy',
      async () => (await metric(a.url, 'sluice_sessions_open')) === 0,
    )
    expect(await metric(a.url, 'sluice_sessions_closed_total', 'reason="taken_over"')).toBe(1)
    expect((await command!.get(`sluice:session:${sessionId}`)) ?? '').toStartWith('i1/')
  }, 30_000)
})

import { afterEach, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { type RedisProcess, startRedis, waitFor } from './cluster/redis-server.ts'

const MAIN = new URL('../server/main.ts', import.meta.url).pathname

/** A `sluice --workers N` supervisor started by a test, with its JSON log lines as they come. */
interface Supervisor {
  child: ReturnType<typeof Bun.spawn<'ignore', 'pipe', 'pipe'>>
  lines: Array<Record<string, unknown>>
  /** The first log line matching, waited for (bounded). */
  line(
    what: string,
    match: (l: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>
}

let redis: RedisProcess | undefined
let supervisor: Supervisor | undefined

afterEach(async () => {
  if (supervisor && supervisor.child.exitCode === null) {
    supervisor.child.kill('SIGKILL')
    await supervisor.child.exited
    // The workers see their supervisor gone and drain on their own; wait for them to leave.
    for (const pid of workerPids(supervisor))
      await waitFor(`worker ${pid} to exit`, () => !alive(pid))
  }
  supervisor = undefined
  await redis?.stop()
  redis = undefined
})

/** With `ownGroup`, the supervisor leads its own process group, as a shell's job does. */
function startSupervisor(args: string[], ownGroup = false): Supervisor {
  const child = Bun.spawn([process.execPath, MAIN, '--port', '0', ...args], {
    detached: ownGroup,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, LOG_LEVEL: 'info' },
  })
  const lines: Array<Record<string, unknown>> = []
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of child.stdout) {
      buffer += decoder.decode(chunk, { stream: true })
      const parts = buffer.split('\n')
      buffer = parts.pop() ?? ''
      for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part))
    }
  })()
  return {
    child,
    lines,
    line: async (what, match) => {
      await waitFor(what, () => lines.some(match), 20_000)
      return lines.find(match) as Record<string, unknown>
    },
  }
}

function workerPids(s: Supervisor): number[] {
  return s.lines.filter((l) => l.event === 'worker_started').map((l) => l.pid as number)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A request on a new connection, so that the kernel picks a worker for it afresh. */
function fresh(url: URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  headers.set('connection', 'close')
  return fetch(url, { ...init, headers })
}

const freshFetch = ((input: string | URL | Request, init?: RequestInit) =>
  fresh(new URL(input instanceof Request ? input.url : input), init)) as typeof fetch

async function instanceOf(base: URL): Promise<string> {
  const health = (await (await fresh(new URL('/health', base))).json()) as { instance: string }
  return health.instance
}

/** A port held by a listener of this test (without SO_REUSEPORT), and its release. */
function heldPort(): { port: number; release(): void } {
  const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  return { port: holder.port, release: () => holder.stop(true) }
}

describe('sluice --workers', () => {
  test('one sluice does not share a port in use: it exits 1 naming it', async () => {
    const held = heldPort()
    try {
      const child = Bun.spawn([process.execPath, MAIN, '--port', String(held.port)], {
        stdout: 'ignore',
        stderr: 'pipe',
      })
      expect(await child.exited).toBe(1)
      expect(await new Response(child.stderr).text()).toContain(
        `sluice: 127.0.0.1:${held.port} is in use by another process`,
      )
    } finally {
      held.release()
    }
  })

  test('workers that cannot listen stop the start: the supervisor exits 1, and so do they', async () => {
    const held = heldPort()
    try {
      // No Redis is reached: the workers fail on the port first.
      supervisor = startSupervisor([
        '--port',
        String(held.port),
        '--workers',
        '2',
        '--redis-url',
        'redis://127.0.0.1:1',
      ])
      expect(await supervisor.child.exited).toBe(1)
      await supervisor.line('the failed start logged', (l) => l.event === 'workers_failed_to_start')
      for (const pid of workerPids(supervisor)) expect(alive(pid)).toBe(false)
    } finally {
      held.release()
    }
  })

  test("a terminal's Ctrl-C (SIGINT to the job's group) reaches every worker once: both drain, exit 0", async () => {
    redis = await startRedis()
    supervisor = startSupervisor(['--workers', '2', '--redis-url', redis.url], true)
    await supervisor.line('the supervisor to listen', (l) => l.event === 'listening')
    process.kill(-supervisor.child.pid, 'SIGINT')
    expect(await supervisor.child.exited).toBe(0)
    const lines = supervisor.lines
    await waitFor(
      'both drains logged',
      () => lines.filter((l) => l.event === 'drain_finished').length === 2,
    )
    // Once each: a second SIGINT would have made a worker exit at once (shutdown_forced).
    expect(lines.filter((l) => l.event === 'shutdown' && l.worker !== undefined)).toHaveLength(2)
    expect(lines.some((l) => l.event === 'shutdown_forced')).toBe(false)
    for (const pid of workerPids(supervisor)) expect(alive(pid)).toBe(false)
  }, 30_000)

  test('--workers 2 without --redis-url is refused at start, naming the setting', async () => {
    const child = Bun.spawn([process.execPath, MAIN, '--workers', '2', '--port', '0'], {
      stdout: 'ignore',
      stderr: 'pipe',
    })
    expect(await child.exited).toBe(2)
    expect(await new Response(child.stderr).text()).toContain('--workers 2 needs --redis-url')
  })

  test('two workers share one port: both answer, SDK sessions work across them, a killed worker is restarted and counted, SIGTERM drains both', async () => {
    redis = await startRedis()
    supervisor = startSupervisor(['--workers', '2', '--redis-url', redis.url])
    const listening = await supervisor.line(
      'the supervisor to listen',
      (l) => l.event === 'listening',
    )
    const base = new URL(listening.url as string)
    expect(listening.workers).toBe(2)

    // Both workers answer on the one port: new connections reach both instance ids.
    const seen = new Set<string>()
    for (let i = 0; i < 200 && seen.size < 2; i++) seen.add(await instanceOf(base))
    expect(seen.size).toBe(2)

    // Official SDK clients, every request on a new connection: whichever worker each lands on,
    // the session is found (relayed to the worker that holds it).
    const streamable = new Client({ name: 'workers-test', version: '1.0.0' })
    await streamable.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', base), { fetch: freshFetch }),
    )
    const legacy = new Client({ name: 'workers-test', version: '1.0.0' })
    await legacy.connect(new SSEClientTransport(new URL('/sse', base), { fetch: freshFetch }))
    for (let i = 0; i < 10; i++) {
      for (const client of [streamable, legacy]) {
        expect(await client.callTool({ name: 'add', arguments: { a: i, b: 1 } })).toEqual({
          content: [{ type: 'text', text: String(i + 1) }],
        })
      }
    }
    await streamable.close()
    await legacy.close()
    // And they did cross: the workers relayed requests to each other (each worker's /metrics
    // carries its instance label; new connections reach both).
    const relays = new Map<string, number>()
    for (let i = 0; i < 200 && relays.size < 2; i++) {
      const text = await (await fresh(new URL('/metrics', base))).text()
      const match = /^sluice_relays_total\{instance="([^"]+)"\} (\d+)$/m.exec(text)
      if (match) relays.set(match[1] as string, Number(match[2]))
    }
    expect(relays.size).toBe(2)
    expect([...relays.values()].reduce((a, b) => a + b)).toBeGreaterThan(0)

    // SIGKILL one worker: the supervisor starts another in its slot, which counts the restart.
    const [first] = workerPids(supervisor)
    process.kill(first as number, 'SIGKILL')
    const restarted = await supervisor.line(
      'the restarted worker',
      (l) => l.event === 'worker_started' && l.restarts === 1,
    )
    expect(supervisor.lines.find((l) => l.event === 'worker_exited')).toMatchObject({
      pid: first,
      signal: 'SIGKILL',
      restarts: 1,
    })
    await waitFor(
      'the restarted worker to report its restart',
      async () => {
        const text = await (await fresh(new URL('/metrics', base))).text()
        return /^sluice_worker_restarts_total(\{[^}]*\})? 1$/m.test(text)
      },
      20_000,
    )

    // SIGTERM: both workers drain and exit, and so does the supervisor, with status 0.
    supervisor.child.kill('SIGTERM')
    expect(await supervisor.child.exited).toBe(0)
    expect(alive(restarted.pid as number)).toBe(false)
    for (const pid of workerPids(supervisor)) expect(alive(pid)).toBe(false)
    // Their last lines may still be on their way through the pipe.
    const lines = supervisor.lines
    await waitFor(
      'both drains logged',
      () => lines.filter((l) => l.event === 'drain_finished').length === 2,
    )
    expect(
      lines
        .filter((l) => l.event === 'drain_finished')
        .map((l) => l.worker)
        .sort(),
    ).toEqual([0, 1])
  }, 60_000)
})

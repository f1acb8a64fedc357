import { existsSync } from 'node:fs'
import { createServer } from 'node:net'

const REDIS_SERVER = '/usr/bin/redis-server'

/** A real `redis-server` on a loopback port, without persistence, started and stopped by a test. */
export interface RedisProcess {
  readonly port: number
  readonly url: string
  /** Kills the server (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>
  /** Stops the server (SIGSTOP): its sockets stay open but nothing answers, as on a hung host. */
  pause(): void
  /** Lets a paused server run again (SIGCONT). */
  resume(): void
  /** Starts a fresh server (empty: no persistence) on the same port. */
  restart(): Promise<void>
  stop(): Promise<void>
}

function redisBinary(): string {
  const found = Bun.which('redis-server') ?? (existsSync(REDIS_SERVER) ? REDIS_SERVER : null)
  if (!found) {
    throw new Error(
      'redis-server is not installed; the cluster tests need it: apt-get install redis-server',
    )
  }
  return found
}

/** A port the OS reports free on 127.0.0.1 now (redis-server cannot be asked for port 0). */
export async function freePort(): Promise<number> {
  const { promise, resolve, reject } = Promise.withResolvers<number>()
  const probe = createServer()
  probe.once('error', reject)
  probe.listen(0, '127.0.0.1', () => {
    const address = probe.address()
    const port = typeof address === 'object' && address ? address.port : 0
    probe.close(() => resolve(port))
  })
  return promise
}

/** Polls `ready` until it holds, at most `boundMs`. */
export async function waitFor(
  what: string,
  ready: () => boolean | Promise<boolean>,
  boundMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + boundMs
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(20)
  }
}

async function pings(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: { data() {}, error() {} },
    })
    socket.end()
    return true
  } catch {
    return false
  }
}

/** Starts redis-server on a free loopback port and waits until it accepts connections. */
export async function startRedis(): Promise<RedisProcess> {
  const binary = redisBinary()
  const port = await freePort()
  let child: ReturnType<typeof Bun.spawn> | undefined
  const launch = async () => {
    child = Bun.spawn(
      [binary, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdout: 'ignore', stderr: 'ignore' },
    )
    await waitFor(`redis-server on port ${port}`, () => pings(port))
  }
  const kill = async () => {
    if (!child) return
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await child.exited
    child = undefined
  }
  await launch()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    restart: launch,
    stop: kill,
  }
}

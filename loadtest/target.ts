import { isIP } from 'node:net'
import { type Subprocess, spawn } from 'bun'

/** The server under test. */
export interface Target {
  base: URL
  /** Its process id when it runs on this machine: CPU, memory and fds are then read from /proc. */
  pid: number | undefined
  /** Whether the load tester started it itself. */
  managed: boolean
  /** The exit code, when the load tester started it. */
  exited?: Promise<number>
  stop(): Promise<void>
}

/** Whether a hostname is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host === '::1') return true
  return isIP(host) === 4 && host.startsWith('127.')
}

export class RemoteTargetError extends Error {
  override readonly name = 'RemoteTargetError'
}

/** A server the user runs; loopback only unless `allowRemote`. */
export function externalTarget(url: string, pid: number | undefined, allowRemote: boolean): Target {
  const base = new URL(url)
  if (!isLoopback(base.hostname) && !allowRemote) {
    throw new RemoteTargetError(
      `Refused: ${base.hostname} is not a loopback address; pass --allow-remote to load a remote server you own`,
    )
  }
  return { base, pid, managed: false, stop: async () => {} }
}

/** Where each session's POSTs go when there are several targets. */
export type PostTarget = 'other' | 'same'

/** Where one session talks: its stream (and its home, where it was created) and its POSTs. */
export interface Route {
  streamBase: URL
  postBase: URL
}

/**
 * The instances of one deployment under load. Sessions are spread over them in turn; with
 * `other` (the worst case), every POST of a session goes to the next instance, never the one
 * holding its stream, so every request must travel between instances to reach its session.
 */
export class TargetSet {
  #next = 0

  constructor(
    readonly members: readonly Target[],
    readonly postTarget: PostTarget = 'other',
  ) {
    if (members.length === 0) throw new Error('a load test needs at least one target')
  }

  /** The first instance: what one-instance checks (cancel latency) measure. */
  get first(): Target {
    return this.members[0] as Target
  }

  /** The next session's route, round-robin over the instances. */
  route(): Route {
    const n = this.members.length
    const at = this.#next++ % n
    const stream = this.members[at] as Target
    const post = this.postTarget === 'same' ? stream : (this.members[(at + 1) % n] as Target)
    return { streamBase: stream.base, postBase: post.base }
  }

  /** The next instance for one stateless request (2026-07-28): plain round-robin. */
  nextBase(): URL {
    return (this.members[this.#next++ % this.members.length] as Target).base
  }

  /** Every instance's base URL, comma-separated, for the report. */
  get label(): string {
    return this.members.map((t) => t.base.href).join(',')
  }
}

const SERVER_ENTRY = new URL('../server/main.ts', import.meta.url).pathname
const START_TIMEOUT_MS = 15_000

/** Starts sluice as a child process on 127.0.0.1 with an OS-picked port (its own fd budget). */
export function startLocalSluice(extraArgs: readonly string[]): Promise<Target> {
  return spawnServer(SERVER_ENTRY, ['--host', '127.0.0.1', '--port', '0', ...extraArgs])
}

/**
 * Runs a server script (with Bun, or `runtime`) and waits for its JSON log line `{"event":"listening","url":...}`.
 * The child is stopped by its PID with SIGTERM.
 */
export async function spawnServer(
  entry: string,
  args: readonly string[],
  runtime: string = process.execPath,
): Promise<Target> {
  const child = spawn([runtime, entry, ...args], {
    stdout: 'pipe',
    stderr: 'inherit',
    env: { ...process.env, LOG_LEVEL: 'info' },
  })
  const base = await readListeningUrl(child)
  return {
    base,
    pid: child.pid,
    managed: true,
    exited: child.exited,
    stop: async () => {
      child.kill('SIGTERM')
      await child.exited
    },
  }
}

/** Reads the child's JSON log lines until `listening`, then keeps draining them. */
async function readListeningUrl(child: Subprocess<'ignore', 'pipe', 'inherit'>): Promise<URL> {
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) throw new Error('the local sluice exited before it listened')
      buffer += decoder.decode(value, { stream: true })
      for (const line of buffer.split('\n')) {
        if (!line.includes('"listening"')) continue
        const url = (JSON.parse(line) as { url: string }).url
        void drain(reader)
        return new URL(url)
      }
    }
  } finally {
    clearTimeout(timer)
  }
}

async function drain(reader: { read(): Promise<{ done: boolean }> }): Promise<void> {
  try {
    while (!(await reader.read()).done) {}
  } catch {
    // The child has gone; nothing more to read.
  }
}

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { procCpuSeconds } from '../loadtest/probe.ts'

// The processes of the scaling-out rows: redis-server, and the CPU of a supervisor's tree.

/** CPU seconds of a process and all its descendants (a supervisor and its workers). */
export function treeCpuSeconds(pid: number): number {
  let sum = procCpuSeconds(pid) ?? 0
  for (const child of childPids(pid)) sum += treeCpuSeconds(child)
  return sum
}

function childPids(pid: number): number[] {
  const children: number[] = []
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
      if (text) children.push(...text.split(' ').map(Number))
    }
  } catch {
    // The process has gone.
  }
  return children
}

export function redisServerBinary(): string | undefined {
  const found = Bun.which('redis-server')
  if (found) return found
  return existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined
}

export interface Redis {
  url: string
  pid: number
  stop(): Promise<void>
}

/** redis-server on a free loopback port, without persistence, until `stop()`. */
export async function startRedis(binary: string): Promise<Redis> {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  const child = Bun.spawn(
    [binary, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdout: 'ignore', stderr: 'inherit' },
  )
  const deadline = performance.now() + 10_000
  for (;;) {
    try {
      const socket = await Bun.connect({
        hostname: '127.0.0.1',
        port,
        socket: { data() {}, error() {} },
      })
      socket.end()
      break
    } catch {
      if (performance.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL')
        throw new Error(`bench: redis-server did not start on 127.0.0.1:${port}`)
      }
      await Bun.sleep(20)
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM')
      await child.exited
    },
  }
}

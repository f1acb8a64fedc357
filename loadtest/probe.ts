import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import type { Target } from './target.ts'

export interface ServerSnapshot {
  sessionsOpen: number
  streamsOpen: number
  rssBytes: number
  /** -1 when unknown. */
  fds: number
  cpuSeconds: number
  /** TCP connections this load tester holds open to the server (each costs the server one fd). */
  ownConnections: number
  metrics: Map<string, number>
}

// Linux reports utime and stime in clock ticks; USER_HZ is 100 on every mainstream kernel.
const CLOCK_TICKS_PER_SECOND = 100

/** Reads the server's state: /metrics always, /proc when the server runs here. */
export class ServerProbe {
  constructor(private readonly target: Target) {}

  async metrics(): Promise<Map<string, number>> {
    const response = await fetch(new URL('/metrics', this.target.base))
    if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`)
    return parsePrometheus(await response.text())
  }

  async snapshot(): Promise<ServerSnapshot> {
    const metrics = await this.metrics()
    const pid = this.target.pid
    return {
      sessionsOpen: metrics.get('sluice_sessions_open') ?? Number.NaN,
      streamsOpen: metrics.get('sluice_sse_streams_open') ?? Number.NaN,
      rssBytes: pid
        ? procRssBytes(pid)
        : (metrics.get('process_resident_memory_bytes') ?? Number.NaN),
      fds: pid ? procFdCount(pid) : (metrics.get('process_open_fds') ?? -1),
      ownConnections: countOwnConnections(Number(this.target.base.port || 80)),
      cpuSeconds: pid
        ? procCpuSeconds(pid)
        : (metrics.get('process_cpu_seconds_total') ?? Number.NaN),
      metrics,
    }
  }

  /** CPU seconds used by the server so far; from /proc when local, without touching the server. */
  async cpuSeconds(): Promise<number> {
    const pid = this.target.pid
    if (pid) return procCpuSeconds(pid)
    return (await this.metrics()).get('process_cpu_seconds_total') ?? Number.NaN
  }
}

/** Parses Prometheus text into `series -> value` (series keep their labels as written). */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    values.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return values
}

export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

export function procRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  return match ? Number(match[1]) * 1024 : Number.NaN
}

export function procFdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return -1
  }
}

/**
 * Established TCP connections of this process to `port` (from /proc/net/tcp{,6} and our socket
 * inodes). Bun's fetch keeps idle keep-alive connections pooled, and the server rightly keeps its
 * end open; the fd verdict must not count those as leaks.
 */
export function countOwnConnections(port: number): number {
  const inodes = new Set<string>()
  try {
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const link = readlinkSync(`/proc/self/fd/${fd}`)
        if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1))
      } catch {
        // The fd closed while we looked.
      }
    }
  } catch {
    return 0
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  let count = 0
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      // cols: sl local rem st tx:rx tr:when retrnsmt uid timeout inode
      if (cols[3] === '01' && cols[2]?.endsWith(`:${hexPort}`) && inodes.has(cols[9] ?? '')) count++
    }
  }
  return count
}

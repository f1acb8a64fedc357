import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import type { Target } from './target.ts'

/**
 * What the load tester can see of the server. `undefined` is "not available": a count the server
 * does not export (no sluice /metrics), or a process figure of a server that is not local.
 */
export interface ServerSnapshot {
  sessionsOpen: number | undefined
  streamsOpen: number | undefined
  /** 2026-07-28 requests being answered (sluice_requests_in_flight). */
  requestsInFlight: number | undefined
  /** subscriptions/listen streams open (sluice_subscriptions_open). */
  subscriptionsOpen: number | undefined
  rssBytes: number | undefined
  fds: number | undefined
  cpuSeconds: number | undefined
  /** TCP connections this load tester holds open to the server (each costs the server one fd). */
  ownConnections: number
  /** Every series of the metrics endpoint; empty when there is none. */
  metrics: Map<string, number>
}

// Linux reports utime and stime in clock ticks; USER_HZ is 100 on every mainstream kernel.
const CLOCK_TICKS_PER_SECOND = 100
const METRICS_TIMEOUT_MS = 5_000

/**
 * Reads the server's state: its metrics endpoint (sluice's /metrics, or `metricsUrl`) when it
 * answers, /proc when the server runs here (`target.pid`). Never throws for what is missing.
 */
export class ServerProbe {
  readonly #metricsUrl: URL
  /** Why the metrics endpoint gave nothing, after the first read that failed. */
  metricsUnavailable: string | undefined

  constructor(
    private readonly target: Target,
    metricsUrl?: string,
  ) {
    this.#metricsUrl = metricsUrl ? new URL(metricsUrl) : new URL('/metrics', target.base)
  }

  async metrics(): Promise<Map<string, number>> {
    try {
      const response = await fetch(this.#metricsUrl, {
        signal: AbortSignal.timeout(METRICS_TIMEOUT_MS),
      })
      const text = await response.text()
      if (!response.ok) {
        this.metricsUnavailable = `GET ${this.#metricsUrl.pathname} answered ${response.status}`
        return new Map()
      }
      const metrics = parsePrometheus(text)
      this.metricsUnavailable = metrics.has('sluice_sessions_open')
        ? undefined
        : `${this.#metricsUrl.pathname} has no sluice_sessions_open`
      return metrics
    } catch (err) {
      this.metricsUnavailable = `GET ${this.#metricsUrl.pathname} failed: ${(err as Error).message}`
      return new Map()
    }
  }

  async snapshot(): Promise<ServerSnapshot> {
    const metrics = await this.metrics()
    const pid = this.target.pid
    return {
      sessionsOpen: metrics.get('sluice_sessions_open'),
      streamsOpen: metrics.get('sluice_sse_streams_open'),
      requestsInFlight: metrics.get('sluice_requests_in_flight'),
      subscriptionsOpen: metrics.get('sluice_subscriptions_open'),
      rssBytes: pid ? procRssBytes(pid) : metrics.get('process_resident_memory_bytes'),
      fds: pid ? procFdCount(pid) : metrics.get('process_open_fds'),
      ownConnections: countOwnConnections(Number(this.target.base.port || 80)),
      cpuSeconds: pid ? procCpuSeconds(pid) : metrics.get('process_cpu_seconds_total'),
      metrics,
    }
  }

  /** CPU seconds used by the server so far; from /proc when local, without touching the server. */
  async cpuSeconds(): Promise<number | undefined> {
    const pid = this.target.pid
    if (pid) return procCpuSeconds(pid)
    return (await this.metrics()).get('process_cpu_seconds_total')
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

export function procCpuSeconds(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined // the process has gone
  }
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}

export function procRssBytes(pid: number): number | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  return match ? Number(match[1]) * 1024 : undefined
}

export function procFdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return undefined
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

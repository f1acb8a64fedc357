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
 * Given several instances, every figure is their sum (sessions open everywhere, streams evicted
 * by all, CPU of every process), so that one verdict judges the whole deployment.
 */
export class ServerProbe {
  readonly #targets: readonly Target[]
  readonly #metricsUrls: readonly URL[]
  /** Why a metrics endpoint gave nothing, after the last read that failed. */
  metricsUnavailable: string | undefined

  /**
   * @param metricsUrl one per target, in the same order (default: each target's /metrics); one
   * alone stands for the whole deployment (a Prometheus that exports the sum).
   */
  constructor(targets: Target | readonly Target[], metricsUrl?: string | readonly string[]) {
    this.#targets = Array.isArray(targets) ? targets : [targets as Target]
    const given =
      metricsUrl === undefined ? [] : typeof metricsUrl === 'string' ? [metricsUrl] : metricsUrl
    this.#metricsUrls =
      given.length > 0
        ? given.map((url) => new URL(url))
        : this.#targets.map((t) => new URL('/metrics', t.base))
  }

  /**
   * Every series, summed over the instances' endpoints; empty when one of them does not answer
   * (a partial sum would look like sessions closed).
   */
  async metrics(): Promise<Map<string, number>> {
    const reads = await Promise.all(this.#metricsUrls.map((url) => readMetrics(url)))
    this.metricsUnavailable = reads.find((r) => r.unavailable)?.unavailable
    if (reads.some((r) => r.metrics === undefined)) return new Map()
    const sum = new Map<string, number>()
    for (const { metrics } of reads) {
      for (const [series, value] of metrics ?? []) sum.set(series, (sum.get(series) ?? 0) + value)
    }
    return sum
  }

  async snapshot(): Promise<ServerSnapshot> {
    const metrics = await this.metrics()
    return {
      sessionsOpen: metrics.get('sluice_sessions_open'),
      streamsOpen: metrics.get('sluice_sse_streams_open'),
      requestsInFlight: metrics.get('sluice_requests_in_flight'),
      subscriptionsOpen: metrics.get('sluice_subscriptions_open'),
      rssBytes: this.#fromProc(procRssBytes) ?? metrics.get('process_resident_memory_bytes'),
      fds: this.#fromProc(procFdCount) ?? metrics.get('process_open_fds'),
      ownConnections: this.#targets.reduce(
        (n, t) => n + countOwnConnections(Number(t.base.port || 80)),
        0,
      ),
      cpuSeconds: this.#fromProc(procCpuSeconds) ?? metrics.get('process_cpu_seconds_total'),
      metrics,
    }
  }

  /** CPU seconds used by the server so far; from /proc when local, without touching the server. */
  async cpuSeconds(): Promise<number | undefined> {
    return this.#fromProc(procCpuSeconds) ?? (await this.metrics()).get('process_cpu_seconds_total')
  }

  /** A /proc figure summed over every target, when every one has a pid that can be read. */
  #fromProc(read: (pid: number) => number | undefined): number | undefined {
    let sum = 0
    for (const { pid } of this.#targets) {
      const value = pid ? read(pid) : undefined
      if (value === undefined) return undefined
      sum += value
    }
    return sum
  }
}

/** One metrics endpoint's series (none when it did not answer), and why sluice's are missing. */
async function readMetrics(
  url: URL,
): Promise<{ metrics: Map<string, number> | undefined; unavailable: string | undefined }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS) })
    const text = await response.text()
    if (!response.ok) {
      return { metrics: undefined, unavailable: `GET ${url.pathname} answered ${response.status}` }
    }
    const metrics = new Map<string, number>()
    for (const [series, value] of parsePrometheus(text)) {
      const key = withoutInstanceLabel(series)
      metrics.set(key, (metrics.get(key) ?? 0) + value)
    }
    const unavailable = metrics.has('sluice_sessions_open')
      ? undefined
      : `${url.pathname} has no sluice_sessions_open`
    return { metrics, unavailable }
  } catch (err) {
    return {
      metrics: undefined,
      unavailable: `GET ${url.pathname} failed: ${(err as Error).message}`,
    }
  }
}

/**
 * A series without its `instance` label (a sluice in a cluster labels every series with it), so
 * that the same series of every instance adds up: `a{instance="x",b="1"}` -> `a{b="1"}`.
 */
export function withoutInstanceLabel(series: string): string {
  if (!series.includes('instance="')) return series
  return series
    .replace(/instance="(?:[^"\\]|\\.)*",?/, '')
    .replace(/,}$/, '}')
    .replace(/{}$/, '')
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

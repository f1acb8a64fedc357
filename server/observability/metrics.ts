import { readdirSync } from 'node:fs'

type Labels = Readonly<Record<string, string>>

const MAX_RENDERED_KEYS = 256

/** A monotonically increasing counter, optionally split by label values. */
export class Counter {
  readonly #values = new Map<string, number>()
  /** One-label keys already rendered, by name then value: hot paths count with one label. */
  readonly #rendered = new Map<string, Map<string, string>>()
  #renderedCount = 0
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels?: Labels, by = 1): void {
    const key = labels ? this.#keyOf(labels) : ''
    this.#values.set(key, (this.#values.get(key) ?? 0) + by)
  }

  #keyOf(labels: Labels): string {
    let only: string | undefined
    for (const name in labels) {
      if (only !== undefined) return renderLabels(labels)
      only = name
    }
    if (only === undefined) return renderLabels(labels)
    const value = labels[only] ?? ''
    let byValue = this.#rendered.get(only)
    let key = byValue?.get(value)
    if (key === undefined) {
      key = renderLabels(labels)
      // Bounded: label values a client can choose must not grow it.
      if (this.#renderedCount < MAX_RENDERED_KEYS) {
        if (!byValue) {
          byValue = new Map()
          this.#rendered.set(only, byValue)
        }
        byValue.set(value, key)
        this.#renderedCount++
      }
    }
    return key
  }

  /**
   * One labelled series, bound once: `inc()` on it skips rendering the labels, for hot paths.
   */
  series(labels: Labels): { inc(by?: number): void } {
    const key = renderLabels(labels)
    if (!this.#values.has(key)) this.#values.set(key, 0)
    return { inc: (by = 1) => this.#values.set(key, (this.#values.get(key) ?? 0) + by) }
  }

  /** The value for one label set (or the unlabelled series); 0 when never incremented. */
  get(labels?: Labels): number {
    return this.#values.get(labels ? renderLabels(labels) : '') ?? 0
  }

  /** Sum over every label set. */
  total(): number {
    let sum = 0
    for (const v of this.#values.values()) sum += v
    return sum
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`]
    if (this.#values.size === 0) lines.push(`${this.name} 0`)
    for (const [key, value] of this.#values) lines.push(`${this.name}${key} ${value}`)
    return lines.join('\n')
  }
}

/** A value read when the metrics are rendered (a gauge, or a counter kept elsewhere). */
export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => number,
    readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}

  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n${this.name} ${this.read()}`
  }
}

/** Seconds-scale buckets, from half a millisecond to ten seconds. */
const DEFAULT_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 10]

/** A Prometheus histogram of durations in seconds, without labels. */
export class Histogram {
  readonly #counts: number[]
  #sum = 0
  #count = 0
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = DEFAULT_BUCKETS_S,
  ) {
    this.#counts = buckets.map(() => 0)
  }

  observe(seconds: number): void {
    this.#sum += seconds
    this.#count++
    for (let i = 0; i < this.buckets.length; i++) {
      if (seconds <= (this.buckets[i] ?? 0)) this.#counts[i] = (this.#counts[i] ?? 0) + 1
    }
  }

  get count(): number {
    return this.#count
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`]
    for (const [i, le] of this.buckets.entries()) {
      lines.push(`${this.name}_bucket{le="${le}"} ${this.#counts[i] ?? 0}`)
    }
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`)
    lines.push(`${this.name}_sum ${this.#sum}`, `${this.name}_count ${this.#count}`)
    return lines.join('\n')
  }
}

function renderLabels(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`)
  return `{${parts.join(',')}}`
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** Open file descriptors of this process, from /proc; -1 where /proc is not available. */
export function countOpenFds(): number {
  try {
    return readdirSync('/proc/self/fd').length
  } catch {
    return -1
  }
}

/** Holds every metric sluice exposes and renders them in the Prometheus text format. */
export class MetricsRegistry {
  readonly #metrics: Array<Counter | Gauge | Histogram> = []

  counter(name: string, help: string): Counter {
    const c = new Counter(name, help)
    this.#metrics.push(c)
    return c
  }

  histogram(name: string, help: string): Histogram {
    const h = new Histogram(name, help)
    this.#metrics.push(h)
    return h
  }

  gauge(name: string, help: string, read: () => number, type?: 'gauge' | 'counter'): Gauge {
    const g = new Gauge(name, help, read, type)
    this.#metrics.push(g)
    return g
  }

  render(): string {
    return `${this.#metrics.map((m) => m.render()).join('\n')}\n`
  }
}

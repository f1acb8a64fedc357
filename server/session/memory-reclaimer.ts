/** Freed bytes that make a reclaim worth its cost. */
export const RECLAIM_THRESHOLD_BYTES = 32 * 1024 * 1024
/** At most one reclaim in this long, however much is freed. */
export const RECLAIM_MIN_INTERVAL_MS = 5_000

export interface MemoryReclaimerOptions {
  thresholdBytes?: number
  minIntervalMs?: number
  /** Gives memory back to the system; `Bun.gc(true)` runs a full collection and mimalloc's purge. */
  reclaim?: () => void
  /** Told of every reclaim that ran. */
  onReclaim?: (freedBytes: number) => void
}

/**
 * Gives memory back after large buffers were freed (evicted slow readers, closed sessions).
 * Without it, the heap and the allocator keep the pages and RSS stays at its peak. Freed bytes
 * add up; past the threshold a reclaim is scheduled on an unref'd timer, rate-limited, so a storm
 * of closes costs one collection, not one per close.
 */
export class MemoryReclaimer {
  readonly #thresholdBytes: number
  readonly #minIntervalMs: number
  readonly #reclaim: () => void
  readonly #onReclaim: ((freedBytes: number) => void) | undefined
  #freedBytes = 0
  #lastRunAt = Number.NEGATIVE_INFINITY
  #timer: Timer | undefined

  constructor(options: MemoryReclaimerOptions = {}) {
    this.#thresholdBytes = options.thresholdBytes ?? RECLAIM_THRESHOLD_BYTES
    this.#minIntervalMs = options.minIntervalMs ?? RECLAIM_MIN_INTERVAL_MS
    this.#reclaim = options.reclaim ?? (() => Bun.gc(true))
    this.#onReclaim = options.onReclaim
  }

  /** `bytes` of buffers were released. */
  freed(bytes: number): void {
    this.#freedBytes += bytes
    if (this.#freedBytes < this.#thresholdBytes || this.#timer) return
    const waitMs = Math.max(0, this.#lastRunAt + this.#minIntervalMs - performance.now())
    this.#timer = setTimeout(() => this.#run(), waitMs)
    this.#timer.unref()
  }

  /** Cancels a scheduled reclaim (shutdown). */
  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #run(): void {
    this.#timer = undefined
    const freed = this.#freedBytes
    this.#freedBytes = 0
    this.#lastRunAt = performance.now()
    this.#reclaim()
    this.#onReclaim?.(freed)
  }
}

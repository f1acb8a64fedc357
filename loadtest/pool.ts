export interface PoolOptions {
  /** How many tasks in all. */
  count: number
  /** How many at once. */
  concurrency: number
  /** Stop starting new tasks after this long. */
  timeCapMs: number
  /** Optional pacing: at most this many starts per second (0: as fast as possible). */
  ratePerSecond?: number
}

export interface PoolResult {
  started: number
  completed: number
  failed: number
  elapsedMs: number
  timedOut: boolean
}

/**
 * Runs `task(i)` for i in [0, count) with bounded concurrency, bounded in count and in time:
 * every load loop of the load tester goes through here so none can run away.
 */
export async function runPool(
  options: PoolOptions,
  task: (index: number) => Promise<void>,
  onSettled: (ok: boolean, err?: unknown) => void = () => {},
): Promise<PoolResult> {
  const started = performance.now()
  const deadline = started + options.timeCapMs
  let next = 0
  let completed = 0
  let failed = 0
  let timedOut = false
  const interval = options.ratePerSecond ? 1000 / options.ratePerSecond : 0
  const worker = async () => {
    for (;;) {
      if (next >= options.count) return
      if (performance.now() > deadline) {
        timedOut = true
        return
      }
      const index = next++
      if (interval) {
        const due = started + index * interval
        const wait = due - performance.now()
        if (wait > 0) await Bun.sleep(wait)
      }
      try {
        await task(index)
        completed++
        onSettled(true)
      } catch (err) {
        failed++
        onSettled(false, err)
      }
    }
  }
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency, options.count)) }, worker),
  )
  return { started: next, completed, failed, elapsedMs: performance.now() - started, timedOut }
}

/** Rejects after `ms` with a message naming `what`; resolves with `promise` otherwise. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

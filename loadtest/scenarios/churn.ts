import { runPool, withTimeout } from '../pool.ts'
import { MIB, openStream, round, type ScenarioContext, type ScenarioResult } from './context.ts'

export interface ChurnParams {
  durationMs: number
  concurrency: number
  /** Bound on open/abort cycles, whatever the duration. */
  maxCycles: number
  sampleEveryMs: number
}

/** Least-squares slope of y over x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length
  if (n < 2) return 0
  let sx = 0
  let sy = 0
  let sxy = 0
  let sxx = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
    sxy += x * y
    sxx += x * x
  }
  const denominator = n * sxx - sx * sx
  return denominator === 0 ? 0 : (n * sxy - sx * sy) / denominator
}

/** Opens and aborts continuously for a duration, sampling server memory and fds for a trend. */
export async function runChurn(ctx: ScenarioContext, params: ChurnParams): Promise<ScenarioResult> {
  const rss: Array<[number, number]> = []
  const fds: Array<[number, number]> = []
  const started = performance.now()
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const s = await ctx.probe.snapshot()
      const minutes = (performance.now() - started) / 60_000
      rss.push([minutes, s.rssBytes / MIB])
      if (s.fds >= 0) fds.push([minutes, s.fds])
      await Bun.sleep(params.sampleEveryMs)
    }
  })()
  let errors = 0
  ctx.progress.start('churn')
  const result = await runPool(
    { count: params.maxCycles, concurrency: params.concurrency, timeCapMs: params.durationMs },
    async () => {
      const stream = await openStream(ctx)
      try {
        await withTimeout(stream.connection.firstEvent, ctx.stepTimeoutMs, 'the first event')
        ctx.progress.open++
        await Bun.sleep(Math.random() * 50)
      } finally {
        stream.end()
        ctx.progress.aborted++
        ctx.progress.done++
      }
    },
    (ok) => {
      if (!ok) {
        errors++
        ctx.progress.errors++
      }
    },
  )
  sampling = false
  await sampler
  ctx.progress.stop()
  // Trends leave out the first fifth of the run: the ramp up to full concurrency is not a leak.
  const warm = ([minutes]: readonly [number, number]) => minutes * 60_000 >= params.durationMs / 5
  const rssWarm = rss.filter(warm)
  const fdsWarm = fds.filter(warm)
  const rssValues = rss.map(([, y]) => y)
  return {
    figures: {
      cycles: result.completed,
      errors,
      seconds: round(result.elapsedMs / 1000, 2),
      cyclesPerSecond: Math.round(result.completed / (result.elapsedMs / 1000)),
      rssFirstMiB: round(rssValues[0] ?? Number.NaN),
      rssMaxMiB: round(Math.max(...rssValues)),
      rssLastMiB: round(rssValues[rssValues.length - 1] ?? Number.NaN),
      rssTrendMiBPerMinute: round(slope(rssWarm), 2),
      fdTrendPerMinute: fdsWarm.length ? round(slope(fdsWarm), 2) : 'n/a',
      samples: rss.length,
    },
    checks: [],
    notes: [],
  }
}

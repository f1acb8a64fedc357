import { runPool, withTimeout } from '../pool.ts'
import {
  figure,
  MIB,
  openStream,
  round,
  type ScenarioContext,
  type ScenarioResult,
} from './context.ts'

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
      if (s.rssBytes !== undefined) rss.push([minutes, s.rssBytes / MIB])
      if (s.fds !== undefined) fds.push([minutes, s.fds])
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
        await withTimeout(stream.opened, ctx.stepTimeoutMs, 'the stream to open')
        ctx.progress.open++
        await Bun.sleep(Math.random() * 50)
      } finally {
        ctx.abandoned.add(stream.ref())
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
      rssFirstMiB: figure(rssValues[0]),
      rssMaxMiB: figure(rssValues.length ? Math.max(...rssValues) : undefined),
      rssLastMiB: figure(rssValues[rssValues.length - 1]),
      rssTrendMiBPerMinute: figure(rssWarm.length ? slope(rssWarm) : undefined, 2),
      fdTrendPerMinute: figure(fdsWarm.length ? slope(fdsWarm) : undefined, 2),
      samples: rss.length,
    },
    checks: [],
    notes: [],
  }
}

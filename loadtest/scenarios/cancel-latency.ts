import { ModernMcpClient } from '../modern-client.ts'
import { withTimeout } from '../pool.ts'
import { quantile } from './rpc.ts'

/** Close-to-cancellation times of one kind of abort, in ms. */
export interface CancelLatency {
  samples: number
  p50Ms: number
  maxMs: number
}

/** How long one sample may wait for the server to see its call, or its close. */
const SAMPLE_BOUND_MS = 5_000

/**
 * Measures, from outside, the time from a client's close to the cancellation of its call: a
 * `sleep` call is started, and once the server counts it in flight (its /health) the connection
 * is reset; the time runs until the server no longer counts it, which is the moment its peer
 * closed and the call's AbortSignal fired (one synchronous step in sluice). `sse`: the call's
 * stream is open (first frame received); `json`: no byte has been sent yet (auto mode, no
 * progress). Sequential, so each sample sees only its own call. Undefined without sluice's /health.
 */
export async function measureCancelLatency(
  base: URL,
  kind: 'sse' | 'json',
  samples: number,
): Promise<CancelLatency | undefined> {
  const client = new ModernMcpClient(base)
  const inFlight = async (): Promise<number | undefined> => {
    const health = (await (await fetch(new URL('/health', base))).json()) as {
      requestsInFlight?: number
    }
    return health.requestsInFlight
  }
  const baseline = await inFlight()
  if (baseline === undefined) return undefined
  const times: number[] = []
  const accept = kind === 'sse' ? 'text/event-stream' : 'application/json, text/event-stream'
  for (let i = 0; i < samples; i++) {
    const params = { name: 'sleep', arguments: { seconds: 30 } }
    const connection = client.open('tools/call', params, undefined, accept)
    try {
      if (kind === 'sse') await withTimeout(connection.streaming, SAMPLE_BOUND_MS, 'the stream')
      await until(async () => ((await inFlight()) ?? 0) > baseline, 'the call in flight')
    } catch (err) {
      connection.reset()
      throw err
    }
    const closedAt = performance.now()
    connection.reset()
    await until(async () => ((await inFlight()) ?? 0) <= baseline, 'the cancellation')
    times.push(performance.now() - closedAt)
  }
  times.sort((a, b) => a - b)
  return { samples: times.length, p50Ms: quantile(times, 0.5), maxMs: times[times.length - 1]! }
}

/** Polls `condition` back to back (each poll is one loopback request), within a bound. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + SAMPLE_BOUND_MS
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
  }
}

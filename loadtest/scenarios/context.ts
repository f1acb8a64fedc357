import { LegacyMcpSession } from '../mcp-session.ts'
import { runPool } from '../pool.ts'
import type { ServerProbe } from '../probe.ts'
import type { Progress } from '../progress.ts'
import type { SourceAddresses } from '../source-addresses.ts'
import { SseConnection } from '../sse-connection.ts'
import type { Target } from '../target.ts'
import type { Check } from '../verdict.ts'

/** What every scenario gets. */
export interface ScenarioContext {
  target: Target
  probe: ServerProbe
  sources: SourceAddresses
  progress: Progress
  /** Per-connection wait bound (endpoint frame, responses). */
  stepTimeoutMs: number
}

/** What a scenario reports: its figures, and checks of its own that join the verdict. */
export interface ScenarioResult {
  figures: Record<string, number | string>
  checks: Check[]
  notes: string[]
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits
export const MIB = 2 ** 20

/** Opens a raw SSE stream to the target from the next source address. */
export function openStream(ctx: ScenarioContext, sendRequest = true): SseConnection {
  const localAddress = ctx.sources.take()
  return new SseConnection({
    base: ctx.target.base,
    path: '/sse',
    sendRequest,
    ...(localAddress ? { localAddress } : {}),
  })
}

/** Counts failures by message, and the progress line's error count with them. */
export class ErrorTally {
  readonly #counts = new Map<string, number>()
  constructor(private readonly ctx: ScenarioContext) {}

  /** A runPool `onSettled` callback. */
  readonly settled = (ok: boolean, err?: unknown): void => {
    if (ok) return
    this.ctx.progress.errors++
    const key = (err as Error)?.message ?? String(err)
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1)
  }

  get total(): number {
    let sum = 0
    for (const n of this.#counts.values()) sum += n
    return sum
  }

  /** One note per distinct failure: `count x message`. */
  notes(): string[] {
    return [...this.#counts].map(([message, count]) => `${count} x ${message}`)
  }
}

/** Opens one MCP session (legacy SSE) from the next source address and initializes it. */
export async function openMcpSession(ctx: ScenarioContext): Promise<LegacyMcpSession> {
  const session = await LegacyMcpSession.open(
    ctx.target.base,
    ctx.sources.take(),
    ctx.stepTimeoutMs,
  )
  try {
    await session.initialize(ctx.stepTimeoutMs)
  } catch (err) {
    session.connection.reset()
    throw err
  }
  return session
}

/** Opens up to `count` initialized sessions (50 at a time, bounded by `timeCapMs`). */
export async function openMcpSessions(
  ctx: ScenarioContext,
  count: number,
  timeCapMs: number,
): Promise<LegacyMcpSession[]> {
  const sessions: LegacyMcpSession[] = []
  await runPool({ count, concurrency: 50, timeCapMs }, async () => {
    sessions.push(await openMcpSession(ctx))
    ctx.progress.open++
  })
  return sessions
}

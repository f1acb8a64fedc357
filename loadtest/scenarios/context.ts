import type { Check } from '../check.ts'
import {
  type ClientSession,
  type OpenedStream,
  openClientSession,
  openSessionStream,
  type TransportKind,
} from '../client-session.ts'
import { runPool } from '../pool.ts'
import type { ServerProbe } from '../probe.ts'
import type { Progress } from '../progress.ts'
import type { AbandonedSessions } from '../session-check.ts'
import type { SourceAddresses } from '../source-addresses.ts'
import type { Target, TargetSet } from '../target.ts'

/** What every scenario gets. */
export interface ScenarioContext {
  /** The first instance (one-instance measures, such as cancel latency). */
  target: Target
  /** Every instance; each session takes the next route over them. */
  targets: TargetSet
  probe: ServerProbe
  sources: SourceAddresses
  progress: Progress
  /** Per-connection wait bound (endpoint frame, responses). */
  stepTimeoutMs: number
  /** Which MCP transport the scenario drives. */
  transport: TransportKind
  /** Sessions the scenario left, politely or not: the verdict asks the server about them. */
  abandoned: AbandonedSessions
}

/** What a scenario reports: its figures, and checks of its own that join the verdict. */
export interface ScenarioResult {
  figures: Record<string, number | string>
  checks: Check[]
  notes: string[]
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits

/** A figure as reported: rounded, or `n/a` when it was not measured. */
export const figure = (n: number | undefined, digits = 1): number | 'n/a' =>
  n === undefined || !Number.isFinite(n) ? 'n/a' : round(n, digits)
export const MIB = 2 ** 20

/** Opens a session's SSE stream (legacy `/sse`, or a Streamable HTTP session's GET stream). */
export function openStream(ctx: ScenarioContext, sendRequest = true): Promise<OpenedStream> {
  return openSessionStream(
    ctx.transport,
    ctx.targets.route(),
    ctx.sources.take(),
    ctx.stepTimeoutMs,
    sendRequest,
  )
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

/** Opens one initialized MCP session over the scenario's transport, from the next source address. */
export function openMcpSession(ctx: ScenarioContext, batches = false): Promise<ClientSession> {
  return openClientSession(
    ctx.transport,
    ctx.targets.route(),
    ctx.sources.take(),
    ctx.stepTimeoutMs,
    batches,
  )
}

/** Opens up to `count` initialized sessions (50 at a time, bounded by `timeCapMs`). */
export async function openMcpSessions(
  ctx: ScenarioContext,
  count: number,
  timeCapMs: number,
  batches = false,
): Promise<ClientSession[]> {
  const sessions: ClientSession[] = []
  await runPool({ count, concurrency: 50, timeCapMs }, async () => {
    sessions.push(await openMcpSession(ctx, batches))
    ctx.progress.open++
  })
  return sessions
}

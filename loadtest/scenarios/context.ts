import type { ServerProbe } from '../probe.ts'
import type { Progress } from '../progress.ts'
import type { SourceAddresses } from '../source-addresses.ts'
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

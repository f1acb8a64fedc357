/** One check of a verdict: what was measured against what it had to be. */
export interface Check {
  name: string
  /** False when the figure could not be seen from here: the check then neither passes nor fails. */
  measured: boolean
  passed: boolean
  /** The measured figure; null when not measured. */
  value: number | null
  limit: number
  unit: string
  detail: string
}

/**
 * A check of `value` against `limit`. An `undefined` value was not measured: the check is shown as
 * not available (with `unavailable` as the reason) and does not decide the verdict.
 */
export function check(
  name: string,
  value: number | undefined,
  limit: number,
  unit: string,
  okIfAtMost = true,
  unavailable = 'not measured',
): Check {
  if (value === undefined || !Number.isFinite(value)) {
    return notMeasured(name, limit, unit, unavailable)
  }
  const passed = okIfAtMost ? value <= limit : value >= limit
  const detail = passed
    ? `${fmt(value)} ${unit} (limit ${okIfAtMost ? '<=' : '>='} ${fmt(limit)})`
    : `${fmt(value)} ${unit}, ${okIfAtMost ? 'over' : 'under'} the limit of ${fmt(limit)} by ${fmt(Math.abs(value - limit))}`
  return { name, measured: true, passed, value, limit, unit, detail }
}

export function notMeasured(name: string, limit: number, unit: string, reason: string): Check {
  return {
    name,
    measured: false,
    passed: true,
    value: null,
    limit,
    unit,
    detail: `not available: ${reason}`,
  }
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2))

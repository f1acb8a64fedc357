/** Why a session or request was refused; the label values of `sluice_limit_refusals_total`. */
export type RefusalReason =
  | 'max_sessions'
  | 'sessions_per_token'
  | 'memory_budget'
  | 'draining'
  | 'max_subscriptions'
  | 'calls_in_flight'

/**
 * A new session (or a new request) was refused: the server is at its session limit, the credential at its quota,
 * the memory budget is used up, or the server is shutting down.
 */
export class SessionRefusedError extends Error {
  override readonly name = 'SessionRefusedError'
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message)
  }
}

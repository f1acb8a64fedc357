/** A new session was refused: the server is at its session limit, or shutting down. */
export class SessionRefusedError extends Error {
  override readonly name = 'SessionRefusedError'
  constructor(
    readonly reason: 'max_sessions' | 'draining',
    message: string,
  ) {
    super(message)
  }
}

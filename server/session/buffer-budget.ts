/** Share of the budget past which new sessions and requests are refused. */
export const HIGH_WATER_FRACTION = 0.9

/**
 * The server-wide budget of bytes that clients can make sluice hold: every session's unsent
 * messages and replay windows, together. Sessions charge it as their streams grow and release it
 * on their one close path; the registry sheds load while it is exceeded.
 */
export class BufferBudget {
  #usedBytes = 0
  #onRelease: ((bytes: number) => void) | undefined

  constructor(readonly maxBytes: number) {}

  /** Bytes held now, over all sessions. */
  get usedBytes(): number {
    return this.#usedBytes
  }

  /** Whether more is held than the budget allows. */
  get exceeded(): boolean {
    return this.#usedBytes > this.maxBytes
  }

  /**
   * Whether new work must wait: past the high-water mark (nine tenths of the budget), new sessions
   * and requests are refused before the budget overflows and a session has to be evicted.
   */
  get exhausted(): boolean {
    return this.#usedBytes >= this.maxBytes * HIGH_WATER_FRACTION
  }

  /** Calls `listener` with the bytes of every release (to give memory back after large frees). */
  onRelease(listener: (bytes: number) => void): void {
    this.#onRelease = listener
  }

  adjust(deltaBytes: number): void {
    this.#usedBytes += deltaBytes
    if (deltaBytes < 0) this.#onRelease?.(-deltaBytes)
  }
}

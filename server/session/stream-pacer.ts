export interface StreamPacerOptions {
  keepaliveMs: number
  sendDeadlineMs: number
  /** Called when nothing has been handed to the reader for `keepaliveMs`. */
  onQuiet: () => void
  /** Called when a handed-over frame has waited `sendDeadlineMs` for the reader to take it. */
  onDeadline: () => void
}

/**
 * Times one open stream: keepalives when it is quiet, and the send deadline for a reader that
 * stopped reading. Holds at most two timers, whatever the message rate, and both are unref'd.
 */
export class StreamPacer {
  #lastFrameAt = performance.now()
  /** When the frame now waiting for the reader was handed over; 0 while the reader keeps up. */
  #pendingSince = 0
  #keepaliveTimer: Timer | undefined
  #deadlineTimer: Timer | undefined
  #stopped = false

  constructor(private readonly options: StreamPacerOptions) {
    this.#armKeepalive(options.keepaliveMs)
  }

  /** A frame was handed to the reader (the stream generator yielded it). */
  frameHandedOver(): void {
    const now = performance.now()
    this.#lastFrameAt = now
    this.#pendingSince = now
    if (!this.#deadlineTimer && !this.#stopped) this.#armDeadline(this.options.sendDeadlineMs)
  }

  /** The reader took the frame (the generator was resumed for the next one). */
  frameTaken(): void {
    this.#pendingSince = 0
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#keepaliveTimer)
    clearTimeout(this.#deadlineTimer)
    this.#keepaliveTimer = undefined
    this.#deadlineTimer = undefined
  }

  #armKeepalive(delayMs: number): void {
    this.#keepaliveTimer = setTimeout(() => {
      if (this.#stopped) return
      const quietMs = performance.now() - this.#lastFrameAt
      if (quietMs >= this.options.keepaliveMs - 1) {
        this.options.onQuiet()
        this.#armKeepalive(this.options.keepaliveMs)
      } else {
        this.#armKeepalive(this.options.keepaliveMs - quietMs)
      }
    }, delayMs)
    this.#keepaliveTimer.unref()
  }

  #armDeadline(delayMs: number): void {
    this.#deadlineTimer = setTimeout(() => {
      this.#deadlineTimer = undefined
      if (this.#stopped || this.#pendingSince === 0) return
      const waitedMs = performance.now() - this.#pendingSince
      if (waitedMs >= this.options.sendDeadlineMs - 1) this.options.onDeadline()
      else this.#armDeadline(this.options.sendDeadlineMs - waitedMs)
    }, delayMs)
    this.#deadlineTimer.unref()
  }
}

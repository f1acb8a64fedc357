import { timerWheel, type WheelEntry } from './timer-wheel.ts'

export interface PacerTiming {
  keepaliveMs: number
  sendDeadlineMs: number
}

/**
 * Times one open stream on the process's timer wheel: a keepalive when nothing has been handed
 * to the reader for `keepaliveMs`, and the send deadline when a handed-over frame has waited
 * `sendDeadlineMs` for the reader to take it. It holds no timer of its own: a frame handed over
 * only records the time, and the wheel visits the pacer when something may be due. `stop()` is
 * part of its owner's close path.
 */
export abstract class Pacer implements WheelEntry {
  wheelTick = -1
  readonly #keepaliveMs: number
  readonly #sendDeadlineMs: number
  #lastFrameAt = performance.now()
  /** When the frame now waiting for the reader was handed over; 0 while the reader keeps up. */
  #pendingSince = 0
  #stopped = false

  constructor(timing: PacerTiming) {
    this.#keepaliveMs = timing.keepaliveMs
    this.#sendDeadlineMs = timing.sendDeadlineMs
    timerWheel.schedule(this, this.#lastFrameAt + timing.keepaliveMs)
  }

  /** Nothing was handed to the reader for the keepalive interval. */
  protected abstract onQuiet(): void
  /** A handed-over frame waited past the send deadline: the reader stopped reading. */
  protected abstract onDeadline(): void

  /** A frame was handed to the reader (the stream generator yielded it). */
  frameHandedOver(): void {
    if (this.#stopped) return
    const now = performance.now()
    this.#lastFrameAt = now
    this.#pendingSince = now
    timerWheel.schedule(this, now + this.#sendDeadlineMs)
  }

  /** The reader took the frame (the generator was resumed for the next one). */
  frameTaken(): void {
    this.#pendingSince = 0
  }

  /** Leaves the wheel; nothing fires after it. */
  stop(): void {
    this.#stopped = true
    timerWheel.cancel(this)
  }

  /** WheelEntry: the deadline first (an evicted reader needs no keepalive), then the keepalive. */
  onWheelDue(nowMs: number): number | undefined {
    if (this.#stopped) return undefined
    // 1 ms of slack: timers round, and a frame handed over at the deadline's edge is overdue.
    if (this.#pendingSince > 0 && nowMs >= this.#pendingSince + this.#sendDeadlineMs - 1) {
      this.#stopped = true
      this.onDeadline()
      return undefined
    }
    if (nowMs >= this.#lastFrameAt + this.#keepaliveMs - 1) {
      // Offered once per interval: a reader parked on the stream takes it as a keepalive frame;
      // one busy with the last frame does not need one.
      this.#lastFrameAt = nowMs
      this.onQuiet()
      if (this.#stopped) return undefined
    }
    const quietAt = this.#lastFrameAt + this.#keepaliveMs
    return this.#pendingSince > 0
      ? Math.min(quietAt, this.#pendingSince + this.#sendDeadlineMs)
      : quietAt
  }
}

export interface StreamPacerOptions extends PacerTiming {
  /** Called when nothing has been handed to the reader for `keepaliveMs`. */
  onQuiet: () => void
  /** Called when a handed-over frame has waited `sendDeadlineMs` for the reader to take it. */
  onDeadline: () => void
}

/** A pacer that calls functions back (a paced reply body, which has no stream of its own). */
export class StreamPacer extends Pacer {
  readonly #options: StreamPacerOptions

  constructor(options: StreamPacerOptions) {
    super(options)
    this.#options = options
  }

  protected override onQuiet(): void {
    this.#options.onQuiet()
  }

  protected override onDeadline(): void {
    this.#options.onDeadline()
  }
}

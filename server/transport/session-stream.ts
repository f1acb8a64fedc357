import type { EventStream, StreamEvent } from '../session/event-stream.ts'
import { KEEPALIVE } from '../session/event-stream.ts'
import { KEEPALIVE_FRAME } from './sse-frame.ts'

/**
 * What the stream generator needs of the owner of a stream: a 2025 session, or the peer of one
 * 2026-07-28 request or listen stream.
 */
export interface StreamOwner {
  take(stream: EventStream): StreamEvent | undefined
  wait(stream: EventStream): Promise<StreamEvent | typeof KEEPALIVE | null>
  frameHandedOver(stream: EventStream, kind: 'message' | 'keepalive' | 'control'): void
  frameTaken(stream: EventStream): void
  detach(stream: EventStream): void
  /** Charges (or releases, negative) bytes of a large frame on its way out to the budget. */
  chargeTransit(deltaBytes: number): void
}

export interface StreamSessionOptions {
  /** Frames yielded first, before any await: the endpoint event, or a priming event. */
  firstFrames: readonly Uint8Array[]
  /**
   * How one event of `stream` becomes an SSE frame (with or without an event id): a function made
   * once per transport, not a closure per stream, so it is given the stream.
   */
  encode: (event: StreamEvent, stream: EventStream) => Uint8Array
  onFrame?: ((frame: Uint8Array) => void) | undefined
  /** Called once when the generator ends, however. */
  onEnd?: (() => void) | undefined
}

/**
 * Largest piece a frame is handed to the HTTP layer in. Bun takes what it is given whole, so a
 * large frame handed over at once would sit in its write buffer outside every bound; in pieces,
 * a reader that stops reading stalls the generator, and the send deadline sees it.
 */
export const FRAME_SLICE_BYTES = 64 * 1024

/**
 * Whether `text` fits one frame slice whatever its characters (a UTF-16 unit is at most 3 bytes of
 * UTF-8): such a body goes to Bun as the string itself, which it encodes as it writes.
 */
export function fitsOneSlice(text: string): boolean {
  return text.length * 3 <= FRAME_SLICE_BYTES
}

/** Where the shared `return` of every stream generator finds its stream. */
const HELD: unique symbol = Symbol('held stream')

/** A stream being read, as its generator and its `return` share it: one object per stream. */
class HeldStream {
  /** Frames to yield first; let go of once sent. */
  #first: readonly Uint8Array[] | undefined
  #firstAt = 0
  readonly encode: StreamSessionOptions['encode']
  readonly onFrame: ((frame: Uint8Array) => void) | undefined
  #onEnd: (() => void) | undefined
  #ended = false

  constructor(
    readonly owner: StreamOwner,
    readonly stream: EventStream,
    options: StreamSessionOptions,
  ) {
    this.#first = options.firstFrames.length > 0 ? options.firstFrames : undefined
    this.encode = options.encode
    this.onFrame = options.onFrame
    this.#onEnd = options.onEnd
  }

  /** The next of the frames to yield first; undefined once all are out (they are let go of). */
  nextFirstFrame(): Uint8Array | undefined {
    const first = this.#first
    if (!first) return undefined
    const frame = first[this.#firstAt++]
    if (this.#firstAt >= first.length) this.#first = undefined
    return frame
  }

  /**
   * The reader is gone or done: detaches it (which wakes a generator parked on the stream), once.
   * A later call (Bun calls `return()` again after the end) must not detach a reader that has
   * attached to the stream since, resuming it.
   */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.owner.detach(this.stream)
    const onEnd = this.#onEnd
    this.#onEnd = undefined
    onEnd?.()
  }
}

/**
 * The SSE body of one stream of a session (attached by the caller). Yields `firstFrames` before
 * any await, then the stream's events and keepalives until the stream ends or the session closes.
 *
 * It only ever waits on the stream, and closing the session wakes that wait, so the generator
 * never stays parked after its session has ended. It detaches the reader however it ends: reader
 * gone, stream finished, session closed, or the HTTP layer calling `return()`, which Bun does when
 * the client leaves (parked or not, even before the first frame): that `return` detaches first,
 * which wakes the parked wait, so no abort listener is needed.
 */
export function streamSession(
  session: StreamOwner,
  stream: EventStream,
  options: StreamSessionOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const held = new HeldStream(session, stream, options)
  const body = heldStream(held) as AsyncGenerator<Uint8Array, void, undefined> & {
    [HELD]?: HeldStream
  }
  body[HELD] = held
  return body
}

async function* heldStream(held: HeldStream): AsyncGenerator<Uint8Array, void, undefined> {
  const { owner: session, stream } = held
  // A large frame is held (charged to the budget) until its last piece is taken.
  let inTransit = 0
  try {
    // No local keeps a first frame once it is out: a parked generator holds nothing of them.
    for (let first = held.nextFirstFrame(); first; first = held.nextFirstFrame()) {
      session.frameHandedOver(stream, 'control')
      held.onFrame?.(first)
      yield first
      session.frameTaken(stream)
    }
    for (;;) {
      const next = session.take(stream) ?? (await session.wait(stream))
      if (next === null) return
      const keepalive = next === KEEPALIVE
      const frame = keepalive ? KEEPALIVE_FRAME : held.encode(next, stream)
      held.onFrame?.(frame)
      if (frame.byteLength > FRAME_SLICE_BYTES) {
        inTransit = frame.byteLength
        session.chargeTransit(inTransit)
      }
      for (let at = FRAME_SLICE_BYTES; at < frame.byteLength; at += FRAME_SLICE_BYTES) {
        session.frameHandedOver(stream, 'control')
        yield frame.subarray(at - FRAME_SLICE_BYTES, at)
        session.frameTaken(stream)
      }
      const last = Math.floor((frame.byteLength - 1) / FRAME_SLICE_BYTES) * FRAME_SLICE_BYTES
      session.frameHandedOver(stream, keepalive ? 'keepalive' : 'message')
      yield last === 0 ? frame : frame.subarray(last)
      session.frameTaken(stream)
      if (inTransit > 0) {
        session.chargeTransit(-inTransit)
        inTransit = 0
      }
    }
  } finally {
    if (inTransit > 0) session.chargeTransit(-inTransit)
    held.end()
  }
}

/** AsyncGenerator.prototype.return: it waits for a generator parked on an await to wake. */
const generatorReturn = Object.getPrototypeOf(heldStream.prototype).return as (
  this: AsyncGenerator<Uint8Array, void, undefined>,
  value?: undefined,
) => Promise<IteratorResult<Uint8Array, void>>

// Every stream generator's `return` (one function on their shared prototype, nothing per stream):
// the reader leaving detaches at once, which wakes the parked wait, then the generator finishes.
Object.defineProperty(heldStream.prototype, 'return', {
  configurable: true,
  writable: true,
  value: function returnHeld(
    this: AsyncGenerator<Uint8Array, void, undefined> & { [HELD]?: HeldStream },
    value?: undefined,
  ) {
    this[HELD]?.end()
    return generatorReturn.call(this, value)
  },
})

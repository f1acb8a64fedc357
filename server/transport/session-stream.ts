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
  /** How one event becomes an SSE frame (with or without an event id). */
  encode: (event: StreamEvent) => Uint8Array
  onFrame?: ((frame: Uint8Array) => void) | undefined
  /** Called once when the generator ends, however. */
  onEnd?: () => void
}

/**
 * Largest piece a frame is handed to the HTTP layer in. Bun takes what it is given whole, so a
 * large frame handed over at once would sit in its write buffer outside every bound; in pieces,
 * a reader that stops reading stalls the generator, and the send deadline sees it.
 */
export const FRAME_SLICE_BYTES = 64 * 1024

/**
 * The SSE body of one stream of a session (attached by the caller). Yields `firstFrames` before
 * any await, then the stream's events and keepalives until the stream ends or the session closes.
 *
 * It only ever waits on the stream, and closing the session wakes that wait, so the generator
 * never stays parked after its session has ended. Its `finally` detaches the reader however it
 * ends (reader gone, stream finished, session closed, Elysia calling `return()`).
 */
export async function* streamSession(
  session: StreamOwner,
  stream: EventStream,
  options: StreamSessionOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { firstFrames, encode, onFrame, onEnd } = options
  // A large frame is held (charged to the budget) until its last piece is taken.
  let inTransit = 0
  try {
    for (const frame of firstFrames) {
      session.frameHandedOver(stream, 'control')
      onFrame?.(frame)
      yield frame
      session.frameTaken(stream)
    }
    for (;;) {
      const next = session.take(stream) ?? (await session.wait(stream))
      if (next === null) return
      const keepalive = next === KEEPALIVE
      const frame = keepalive ? KEEPALIVE_FRAME : encode(next)
      onFrame?.(frame)
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
    session.detach(stream)
    onEnd?.()
  }
}

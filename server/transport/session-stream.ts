import { KEEPALIVE } from '../session/outbound-queue.ts'
import type { Session } from '../session/session.ts'
import { encodeMessageFrame, KEEPALIVE_FRAME } from './sse-frame.ts'

/**
 * The SSE body of a session's stream. Yields `firstFrames` before any await (so the client gets
 * its endpoint or priming event at once), then the session's queued messages and keepalives.
 *
 * It only ever waits on the session's queue, and closing the session wakes that wait, so the
 * generator never stays parked after its session has ended. Its `finally` detaches the stream
 * however it ends (reader gone, session closed, Elysia calling `return()`).
 */
export async function* streamSession(
  session: Session,
  firstFrames: readonly Uint8Array[],
  onFrame?: (frame: Uint8Array) => void,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    for (const frame of firstFrames) {
      session.frameHandedOver('control')
      onFrame?.(frame)
      yield frame
      session.frameTaken()
    }
    for (;;) {
      const next = session.takeOutbound() ?? (await session.waitOutbound())
      if (next === null) return
      const keepalive = next === KEEPALIVE
      const frame = keepalive ? KEEPALIVE_FRAME : encodeMessageFrame(next)
      session.frameHandedOver(keepalive ? 'keepalive' : 'message')
      onFrame?.(frame)
      yield frame
      session.frameTaken()
    }
  } finally {
    session.closeStream()
  }
}

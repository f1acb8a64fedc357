import { StreamPacer } from '../session/stream-pacer.ts'
import { FRAME_SLICE_BYTES } from './session-stream.ts'

/** Who holds the bytes of a body on their way out: charged until taken (a session, a request). */
export interface TransitOwner {
  chargeTransit(deltaBytes: number): void
}

export interface PacedBodyEvents {
  /** The reader left a piece untaken past the send deadline: cut its connection. */
  onDeadline: () => void
  /** The body was not taken whole (the deadline, or the client left). */
  abandoned: () => void
}

/**
 * A large body (a JSON reply) in 64 KiB pieces, charged to its owner and the server-wide budget
 * until its reader took the last one; a reader that stops taking pieces is cut at the send
 * deadline, like a stalled stream. One close path: the generator's `finally`.
 */
export async function* pacedBody(
  bytes: Uint8Array,
  owner: TransitOwner,
  events: PacedBodyEvents,
  sendDeadlineMs: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  let taken = false
  const pacer = new StreamPacer({
    keepaliveMs: sendDeadlineMs,
    sendDeadlineMs,
    onQuiet: () => {},
    onDeadline: events.onDeadline,
  })
  owner.chargeTransit(bytes.byteLength)
  try {
    for (let at = 0; at < bytes.byteLength; at += FRAME_SLICE_BYTES) {
      pacer.frameHandedOver()
      yield bytes.subarray(at, at + FRAME_SLICE_BYTES)
      pacer.frameTaken()
    }
    taken = true
  } finally {
    pacer.stop()
    owner.chargeTransit(-bytes.byteLength)
    if (!taken) events.abandoned()
  }
}

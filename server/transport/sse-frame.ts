import type { Logger } from '../observability/log.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface SseEvent {
  event?: string
  id?: string
  /** May span lines; each becomes its own `data:` line. */
  data: string
  retryMs?: number
}

/** Encodes one Server-Sent Events frame, terminated by a blank line. */
export function encodeSseEvent(e: SseEvent): Uint8Array {
  let text = ''
  if (e.event !== undefined) text += `event: ${e.event}\n`
  if (e.id !== undefined) text += `id: ${e.id}\n`
  if (e.retryMs !== undefined) text += `retry: ${e.retryMs}\n`
  for (const line of e.data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`
  return encoder.encode(`${text}\n`)
}

/** One JSON-RPC message as an `event: message` frame. Serialized JSON never contains a newline. */
export function encodeMessageFrame(json: string): Uint8Array {
  return encoder.encode(`event: message\ndata: ${json}\n\n`)
}

/** An SSE comment: ignored by clients, keeps proxies and idle timers from closing the stream. */
export const KEEPALIVE_FRAME = encoder.encode(': keepalive\n\n')
/** The first frame of a stream that has no event to start with: its headers go out at once. */
export const OPEN_COMMENT_FRAME = encoder.encode(': stream open\n\n')

/** Response headers of every SSE stream sluice opens. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}

/** With `--debug`, a callback that logs every outbound frame of a session; else undefined. */
export function frameLogger(
  logger: Logger,
  session: string,
): ((frame: Uint8Array) => void) | undefined {
  if (!logger.enabled('debug')) return undefined
  return (frame) => logger.debug('frame_out', { session, frame: decoder.decode(frame) })
}

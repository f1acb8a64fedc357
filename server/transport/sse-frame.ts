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
  return encoder.encode(sseEventText(e))
}

const LINE_BREAK = /\r\n|\r|\n/

/** The text of one Server-Sent Events frame (see `encodeSseEvent`). */
export function sseEventText(e: SseEvent): string {
  let text = ''
  if (e.event !== undefined) text += `event: ${e.event}\n`
  if (e.id !== undefined) text += `id: ${e.id}\n`
  if (e.retryMs !== undefined) text += `retry: ${e.retryMs}\n`
  // Serialized JSON has no line break: one data line, without a split.
  if (!e.data.includes('\n') && !e.data.includes('\r')) return `${text}data: ${e.data}\n\n`
  for (const line of e.data.split(LINE_BREAK)) text += `data: ${line}\n`
  return `${text}\n`
}

/** One JSON-RPC message as an `event: message` frame. Serialized JSON never contains a newline. */
export function encodeMessageFrame(json: string): Uint8Array {
  return encoder.encode(messageFrameText(json))
}

/** The text of `encodeMessageFrame`; with `id`, the event's `id:` line (serialized JSON, one line). */
export function messageFrameText(json: string, id?: string): string {
  return id === undefined
    ? `event: message\ndata: ${json}\n\n`
    : `event: message\nid: ${id}\ndata: ${json}\n\n`
}

/** The text of `OPEN_COMMENT_FRAME`. */
export const OPEN_COMMENT_TEXT = ': stream open\n\n'
/** An SSE comment: ignored by clients, keeps proxies and idle timers from closing the stream. */
export const KEEPALIVE_FRAME = encoder.encode(': keepalive\n\n')
/** The first frame of a stream that has no event to start with: its headers go out at once. */
export const OPEN_COMMENT_FRAME = encoder.encode(OPEN_COMMENT_TEXT)

/** Response headers of every SSE stream sluice opens. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}

/**
 * The init of an SSE response with just those headers, made once: Bun copies a `Headers` into a
 * response about twice as fast as it reads a plain object (each response gets its own copy).
 */
export const SSE_RESPONSE_INIT: ResponseInit = { headers: new Headers(SSE_HEADERS) }

/** With `--debug`, a callback that logs every outbound frame of a session; else undefined. */
export function frameLogger(
  logger: Logger,
  session: string,
): ((frame: Uint8Array) => void) | undefined {
  if (!logger.enabled('debug')) return undefined
  return (frame) => logger.debug('frame_out', { session, frame: decoder.decode(frame) })
}

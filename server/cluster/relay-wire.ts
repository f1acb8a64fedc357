/**
 * The relay's messages on pub/sub. Each one is a JSON header, a newline, then raw bytes (a request
 * body or a response chunk), so bodies travel without re-encoding.
 */
export type RelayMessage =
  /** To the home: run this request. `from` is the asking instance, `id` its relay id. */
  | {
      t: 'req'
      id: number
      from: string
      method: string
      /** Path and query. */
      path: string
      headers: [string, string][]
    }
  /** To the home: the client left; abort the request. */
  | { t: 'abort'; id: number; from: string }
  /**
   * To the asker: the response's status and headers; with `whole`, the payload is the entire
   * body and nothing follows (a JSON or empty answer: one message instead of three).
   */
  | { t: 'head'; id: number; status: number; headers: [string, string][]; whole?: boolean }
  /** To the asker: the next chunk of the body (the payload). */
  | { t: 'data'; id: number }
  /** To the asker: the body ended (`error`: cut short at the home). */
  | { t: 'end'; id: number; error?: boolean }

const NEWLINE = 0x0a
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeRelay(message: RelayMessage, payload?: Uint8Array): Buffer {
  const head = encoder.encode(JSON.stringify(message))
  const frame = Buffer.allocUnsafe(head.length + 1 + (payload?.length ?? 0))
  frame.set(head, 0)
  frame[head.length] = NEWLINE
  if (payload) frame.set(payload, head.length + 1)
  return frame
}

/** @returns undefined for a frame that is not a relay message (ignored). */
export function decodeRelay(
  frame: Buffer,
): { message: RelayMessage; payload: Uint8Array } | undefined {
  const end = frame.indexOf(NEWLINE)
  if (end < 0) return undefined
  try {
    const message = JSON.parse(decoder.decode(frame.subarray(0, end))) as RelayMessage
    return { message, payload: frame.subarray(end + 1) }
  } catch {
    return undefined
  }
}

/** Request headers the home needs to serve a relayed request as if it had come to it. */
export const RELAYED_REQUEST_HEADERS = [
  'authorization',
  'accept',
  'content-type',
  'last-event-id',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'user-agent',
]

/** Whether a request header travels to the home (`Mcp-Param-*` are the tool's own). */
export function isRelayedHeader(name: string): boolean {
  return RELAYED_REQUEST_HEADERS.includes(name) || name.startsWith('mcp-param-')
}

/** Response headers that describe the home's connection, not the answer. */
export const HOP_BY_HOP = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
])

import { ProtocolError, parseError } from '../protocol/errors.ts'
import { type JsonRpcMessage, parseJson, toJsonRpcMessage } from '../protocol/jsonrpc.ts'
import {
  ClientGoneError,
  TRANSPORT_ERROR_CODE,
  TransportError,
  toTransportError,
} from './transport-error.ts'

const JSON_TYPE = /^application\/json\s*(;|$)/i

/**
 * Reads and validates one JSON-RPC message from a POST body: the single edge where untyped
 * input becomes typed.
 * @throws TransportError 415 (content type), 413 (size), 400 (-32700 not JSON, -32600 not JSON-RPC).
 */
export async function readJsonRpcBody(request: Request, maxBytes: number): Promise<JsonRpcMessage> {
  const text = await readBodyText(request, maxBytes)
  try {
    return toJsonRpcMessage(parseJson(text))
  } catch (err) {
    throw toTransportError(err)
  }
}

/**
 * Checks the content type and size limit, then reads the body as text.
 * @throws ClientGoneError when the client leaves (or resets) mid-upload.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  try {
    return await readCheckedBody(request, maxBytes)
  } catch (err) {
    if (err instanceof TransportError || !request.signal.aborted) throw err
    throw new ClientGoneError('request_body')
  }
}

/**
 * A body as its JSON value, for a reader that needs no text: the same checks as `readBodyText`.
 * A body of declared length is parsed by Bun straight from its bytes, without a string between
 * (about 2 us a request less than `text()` and `JSON.parse`).
 * @throws ProtocolError -32700 when it is not JSON; as `readBodyText` otherwise.
 */
export async function readBodyJson(request: Request, maxBytes: number): Promise<unknown> {
  try {
    if (checkedLength(request, maxBytes) === undefined) {
      return parseJson(await readLimited(request, maxBytes))
    }
    return await request.json()
  } catch (err) {
    if (err instanceof SyntaxError) throw parseError(`body is not valid JSON (${err.message})`)
    if (err instanceof TransportError || err instanceof ProtocolError || !request.signal.aborted) {
      throw err
    }
    throw new ClientGoneError('request_body')
  }
}

async function readCheckedBody(request: Request, maxBytes: number): Promise<string> {
  if (checkedLength(request, maxBytes) === undefined) return readLimited(request, maxBytes)
  return request.text()
}

/**
 * Checks the content type and the declared length; that length, if the body declares one.
 * @throws TransportError 415 (content type), 413 (size).
 */
function checkedLength(request: Request, maxBytes: number): number | undefined {
  const type = request.headers.get('content-type') ?? ''
  if (!JSON_TYPE.test(type)) {
    throw new TransportError(
      415,
      TRANSPORT_ERROR_CODE,
      `Unsupported Media Type: expected application/json, got ${type ? `'${type}'` : 'no content type'}`,
    )
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) throw tooLarge(maxBytes)
  return Number.isFinite(declared) ? declared : undefined
}

/** Reads a body of unknown length (chunked), refusing it as soon as it passes the limit. */
async function readLimited(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel()
      throw tooLarge(maxBytes)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function tooLarge(maxBytes: number): TransportError {
  return new TransportError(
    413,
    TRANSPORT_ERROR_CODE,
    `Payload Too Large: the body exceeds the limit of ${maxBytes} bytes`,
  )
}

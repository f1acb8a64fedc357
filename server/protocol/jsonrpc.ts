import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { invalidRequest, type ProtocolError, parseError } from './errors.ts'

export const JSONRPC_VERSION = '2.0'

const RequestId = Type.Union([Type.String(), Type.Integer()])
const Params = Type.Record(Type.String(), Type.Unknown())
/**
 * `params` and `result` as the edge checks them: any object that is not an array. Checked as
 * `Params`, TypeBox's compiled check would also walk every key of them (Object.entries) only to
 * accept it: a record keyed by any string takes every key JSON can spell.
 */
const JsonObject = Type.Object({})

/** The four message shapes, with `params`/`result` as `params`. */
function messageSchemas<P extends TSchema>(params: P) {
  return {
    request: Type.Object({
      jsonrpc: Type.Literal(JSONRPC_VERSION),
      id: RequestId,
      method: Type.String({ minLength: 1 }),
      params: Type.Optional(params),
    }),
    notification: Type.Object({
      jsonrpc: Type.Literal(JSONRPC_VERSION),
      method: Type.String({ minLength: 1 }),
      params: Type.Optional(params),
    }),
    result: Type.Object({
      jsonrpc: Type.Literal(JSONRPC_VERSION),
      id: RequestId,
      result: params,
    }),
    error: Type.Object({
      jsonrpc: Type.Literal(JSONRPC_VERSION),
      id: Type.Union([RequestId, Type.Null()]),
      error: Type.Object({
        code: Type.Integer(),
        message: Type.String(),
        data: Type.Optional(Type.Unknown()),
      }),
    }),
  }
}

const typed = messageSchemas(Params)
export const JsonRpcRequestSchema = typed.request
export const JsonRpcNotificationSchema = typed.notification
export const JsonRpcResultSchema = typed.result
export const JsonRpcErrorSchema = typed.error

export type RequestId = Static<typeof RequestId>
export type JsonRpcRequest = Static<typeof JsonRpcRequestSchema>
export type JsonRpcNotification = Static<typeof JsonRpcNotificationSchema>
export type JsonRpcResult = Static<typeof JsonRpcResultSchema>
export type JsonRpcError = Static<typeof JsonRpcErrorSchema>
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResult | JsonRpcError

// The same shapes, checked without walking `params`/`result` (a value parsed from JSON is never
// a Date or a byte array, the only other objects a record check refuses).
const edge = messageSchemas(JsonObject)
const checkRequest = TypeCompiler.Compile(edge.request)
const checkNotification = TypeCompiler.Compile(edge.notification)
const checkResult = TypeCompiler.Compile(edge.result)
const checkError = TypeCompiler.Compile(edge.error)

export const isRequest = (m: JsonRpcMessage): m is JsonRpcRequest => 'method' in m && 'id' in m
export const isNotification = (m: JsonRpcMessage): m is JsonRpcNotification =>
  'method' in m && !('id' in m)

/** Parses request text as JSON. @throws ProtocolError -32700 when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw parseError(`body is not valid JSON (${(err as Error).message})`)
  }
}

/**
 * Validates one JSON-RPC 2.0 message at the edge; past this, messages are typed.
 * @throws ProtocolError -32600 naming what is wrong.
 */
export function toJsonRpcMessage(value: unknown): JsonRpcMessage {
  if (checkRequest.Check(value)) return value
  // A message with a method and any `id` is a request, never a notification: the object schemas
  // allow extra properties, so `"id": null` (or 1.5, or {}) would otherwise pass as a notification.
  if (checkNotification.Check(value) && !('id' in value)) return value
  if (checkResult.Check(value)) return value
  if (checkError.Check(value)) return value
  throw describeInvalid(value)
}

function describeInvalid(value: unknown): ProtocolError {
  if (Array.isArray(value)) return invalidRequest('batches are not accepted here; send one message')
  if (typeof value !== 'object' || value === null)
    return invalidRequest('a JSON-RPC message must be an object')
  const v = value as Record<string, unknown>
  if (v.jsonrpc !== JSONRPC_VERSION) return invalidRequest('"jsonrpc" must be "2.0"')
  if ('method' in v && (typeof v.method !== 'string' || v.method === ''))
    return invalidRequest('"method" must be a non-empty string')
  if ('method' in v && 'id' in v && !(typeof v.id === 'string' || Number.isInteger(v.id)))
    return invalidRequest('"id" of a request must be a string or an integer')
  if ('id' in v && !(typeof v.id === 'string' || Number.isInteger(v.id) || v.id === null))
    return invalidRequest('"id" must be a string or an integer')
  if (
    'params' in v &&
    (typeof v.params !== 'object' || v.params === null || Array.isArray(v.params))
  )
    return invalidRequest('"params" must be an object')
  return invalidRequest('not a JSON-RPC request, notification or response')
}

export function resultMessage(id: RequestId, result: Record<string, unknown>): JsonRpcResult {
  return { jsonrpc: JSONRPC_VERSION, id, result }
}

export function errorMessage(id: RequestId | null, error: ProtocolError): JsonRpcError {
  return {
    jsonrpc: JSONRPC_VERSION,
    id,
    error:
      error.data === undefined
        ? { code: error.code, message: error.message }
        : { code: error.code, message: error.message, data: error.data },
  }
}

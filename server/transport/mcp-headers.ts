import { headerMismatch } from '../protocol/errors.ts'
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts'
import { isObject } from '../protocol/request-meta.ts'

/** Methods whose `Mcp-Name` header mirrors `params.name` or `params.uri` (SEP-2243). */
const NAME_SOURCE: ReadonlyMap<string, 'name' | 'uri'> = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
])

const BASE64_PREFIX = '=?base64?'
const BASE64_SUFFIX = '?='
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
/** Visible ASCII, space and tab: what RFC 9110 allows in a field value. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/
/**
 * A decimal number as RFC 8259 spells one, less the exponent: SEP-2243 sends an integer as its
 * decimal string, so `1e1` is no spelling of 10, nor are '', `0x10`, `+16`, `.5` or `016`.
 */
const DECIMAL_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/
/**
 * Lossless UTF-8: bytes that are not UTF-8 are refused (never replaced by U+FFFD), and a leading
 * BOM is kept as U+FEFF (never dropped), so only the body's exact string can match.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * A mirrored header's value as the body would have it: surrounding whitespace dropped (RFC 9110
 * field parsing) and the `=?base64?…?=` sentinel decoded.
 * @throws ProtocolError -32020 for characters a field value may not hold or malformed Base64.
 */
export function decodeHeaderValue(header: string, raw: string): string {
  const value = raw.trim()
  if (!FIELD_VALUE.test(value)) throw headerMismatch(`${header} contains invalid characters`)
  if (
    !value.startsWith(BASE64_PREFIX) ||
    !value.endsWith(BASE64_SUFFIX) ||
    value.length < BASE64_PREFIX.length + BASE64_SUFFIX.length
  ) {
    return value
  }
  const encoded = value.slice(BASE64_PREFIX.length, -BASE64_SUFFIX.length)
  const invalid = () => headerMismatch(`${header} is not valid Base64 inside =?base64?…?=`)
  if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) throw invalid()
  const bytes = Buffer.from(encoded, 'base64')
  // Canonical only: non-zero padding bits (`ZXV=`) would give a second spelling of one value.
  if (bytes.toString('base64') !== encoded) throw invalid()
  try {
    return UTF8.decode(bytes)
  } catch {
    throw headerMismatch(`${header} is not UTF-8 inside =?base64?…?=`)
  }
}

/**
 * Whether a header's text mirrors a body value: a number compares numerically (`42.0` is 42) but
 * only when the text is a decimal number; anything else compares as the string it would print.
 */
function mirrors(decoded: string, value: unknown): boolean {
  if (typeof value !== 'number') return decoded === String(value)
  return DECIMAL_NUMBER.test(decoded) && Number(decoded) === value
}

/**
 * Checks `Mcp-Method` on every request and `Mcp-Name` where the method has a name or uri.
 * @throws ProtocolError -32020 naming the header that is missing or does not match the body.
 */
export function checkStandardHeaders(headers: Headers, request: JsonRpcRequest): void {
  const method = headers.get('mcp-method')
  if (method === null) throw headerMismatch('the Mcp-Method header is required')
  if (method.trim() !== request.method) {
    throw headerMismatch(
      `Mcp-Method header value '${method.trim()}' does not match body method '${request.method}'`,
    )
  }
  const source = NAME_SOURCE.get(request.method)
  const bodyName = source ? request.params?.[source] : undefined
  if (typeof bodyName !== 'string') return
  const raw = headers.get('mcp-name')
  if (raw === null) throw headerMismatch(`the Mcp-Name header is required for ${request.method}`)
  const name = decodeHeaderValue('Mcp-Name', raw)
  if (name !== bodyName) {
    throw headerMismatch(`Mcp-Name header value '${name}' does not match body value '${bodyName}'`)
  }
}

/**
 * Checks the `Mcp-Param-{Name}` headers of a tool call against its arguments, for every property
 * the tool's input schema marks with `x-mcp-header`.
 * @throws ProtocolError -32020 for a header that is missing, malformed or does not match.
 */
export function checkParamHeaders(headers: Headers, inputSchema: unknown, args: unknown): void {
  for (const { path, header } of headerParameters(inputSchema)) {
    const value = valueAt(args, path)
    if (value === undefined || value === null) continue
    const name = `Mcp-Param-${header}`
    const raw = headers.get(name)
    if (raw === null) throw headerMismatch(`the ${name} header is required: the body sets it`)
    const decoded = decodeHeaderValue(name, raw)
    if (!mirrors(decoded, value)) {
      throw headerMismatch(
        `${name} header value '${decoded}' does not match body value '${String(value)}'`,
      )
    }
  }
}

type HeaderParameter = { path: string[]; header: string }

/** Per published schema (a registered tool's, unchanged until it is registered again). */
const headerParametersOf = new WeakMap<object, readonly HeaderParameter[]>()

/** A schema's `x-mcp-header` properties, found once per schema: every tool call asks. */
function headerParameters(schema: unknown): readonly HeaderParameter[] {
  if (!isObject(schema)) return []
  let found = headerParametersOf.get(schema)
  if (!found) {
    found = annotatedProperties(schema)
    headerParametersOf.set(schema, found)
  }
  return found
}

/** The properties marked `x-mcp-header`, reachable through `properties` keys only. */
function annotatedProperties(
  schema: unknown,
  path: readonly string[] = [],
): Array<{ path: string[]; header: string }> {
  if (!isObject(schema) || !isObject(schema.properties)) return []
  const found: Array<{ path: string[]; header: string }> = []
  for (const [key, property] of Object.entries(schema.properties)) {
    if (!isObject(property)) continue
    const header = property['x-mcp-header']
    if (typeof header === 'string') found.push({ path: [...path, key], header })
    found.push(...annotatedProperties(property, [...path, key]))
  }
  return found
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let at = value
  for (const key of path) {
    if (!isObject(at)) return undefined
    at = at[key]
  }
  return at
}

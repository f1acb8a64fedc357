import { describe, expect, test } from 'bun:test'
import { ProtocolError } from '../protocol/errors.ts'
import { checkParamHeaders, checkStandardHeaders, decodeHeaderValue } from './mcp-headers.ts'

const SCHEMA = {
  type: 'object',
  properties: {
    region: { type: 'string', 'x-mcp-header': 'Region' },
    limits: { type: 'object', properties: { max: { type: 'integer', 'x-mcp-header': 'Max' } } },
  },
}

const mismatch = (fn: () => void) => {
  try {
    fn()
  } catch (err) {
    return err instanceof ProtocolError ? err.code : err
  }
  return undefined
}

describe('SEP-2243 headers', () => {
  test('decodes the base64 sentinel and trims surrounding whitespace', () => {
    expect(decodeHeaderValue('Mcp-Name', '  plain  ')).toBe('plain')
    expect(decodeHeaderValue('Mcp-Name', '=?base64?SGVsbG8sIOS4lueVjA==?=')).toBe('Hello, 世界')
    // Without both markers the value is literal.
    expect(decodeHeaderValue('Mcp-Name', '=?base64?SGVsbG8=')).toBe('=?base64?SGVsbG8=')
  })

  test('refuses malformed base64 and control characters with -32020', () => {
    expect(mismatch(() => decodeHeaderValue('X', '=?base64?SGVsbG8?='))).toBe(-32020)
    expect(mismatch(() => decodeHeaderValue('X', '=?base64?SGVs!!!bG8=?='))).toBe(-32020)
    expect(mismatch(() => decodeHeaderValue('X', 'a\u0001b'))).toBe(-32020)
  })

  test('Mcp-Method must equal the body method, case-sensitively; Mcp-Name the tool name', () => {
    const call = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'echo' } }
    const ok = new Headers({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' })
    expect(mismatch(() => checkStandardHeaders(ok, call))).toBeUndefined()
    const upper = new Headers({ 'mcp-method': 'TOOLS/CALL', 'mcp-name': 'echo' })
    expect(mismatch(() => checkStandardHeaders(upper, call))).toBe(-32020)
    const noName = new Headers({ 'mcp-method': 'tools/call' })
    expect(mismatch(() => checkStandardHeaders(noName, call))).toBe(-32020)
  })

  test('Mcp-Param-* headers mirror annotated arguments, nested ones included, numbers numerically', () => {
    const args = { region: 'us-west1', limits: { max: 42 } }
    const good = new Headers({ 'mcp-param-region': 'us-west1', 'mcp-param-max': '42.0' })
    expect(mismatch(() => checkParamHeaders(good, SCHEMA, args))).toBeUndefined()
    const missing = new Headers({ 'mcp-param-region': 'us-west1' })
    expect(mismatch(() => checkParamHeaders(missing, SCHEMA, args))).toBe(-32020)
    const wrong = new Headers({ 'mcp-param-region': 'eu', 'mcp-param-max': '42' })
    expect(mismatch(() => checkParamHeaders(wrong, SCHEMA, args))).toBe(-32020)
    // A parameter the call leaves out needs no header.
    expect(mismatch(() => checkParamHeaders(new Headers(), SCHEMA, {}))).toBeUndefined()
  })

  test('refuses base64 that is not canonical or decodes to bytes that are not UTF-8', () => {
    expect(decodeHeaderValue('X', '=?base64?ZXU=?=')).toBe('eu')
    // Same bytes as ZXU= with non-zero padding bits: a second spelling of one value.
    expect(mismatch(() => decodeHeaderValue('X', '=?base64?ZXV=?='))).toBe(-32020)
    // Byte 0xFF is not UTF-8: refused rather than decoded to U+FFFD.
    expect(mismatch(() => decodeHeaderValue('X', '=?base64?/w==?='))).toBe(-32020)
    // A leading BOM is part of the value, not dropped.
    expect(decodeHeaderValue('X', '=?base64?77u/ZXU=?=')).toBe('\uFEFFeu')
    const schema = {
      type: 'object',
      properties: { region: { type: 'string', 'x-mcp-header': 'R' } },
    }
    const replaced = new Headers({ 'mcp-param-r': '=?base64?/w==?=' })
    expect(mismatch(() => checkParamHeaders(replaced, schema, { region: '\uFFFD' }))).toBe(-32020)
  })

  test('compares a number only when the header is a decimal number', () => {
    const schema = {
      type: 'object',
      properties: { count: { type: 'number', 'x-mcp-header': 'N' } },
    }
    const check = (header: string, count: number) =>
      mismatch(() => checkParamHeaders(new Headers({ 'mcp-param-n': header }), schema, { count }))
    expect(check('16', 16)).toBeUndefined()
    expect(check('16.0', 16)).toBeUndefined()
    expect(check('-15.50', -15.5)).toBeUndefined()
    expect(check('', 0)).toBe(-32020)
    expect(check('   ', 0)).toBe(-32020)
    expect(check('0x10', 16)).toBe(-32020)
    expect(check('0b1', 1)).toBe(-32020)
    expect(check('+16', 16)).toBe(-32020)
    expect(check('.5', 0.5)).toBe(-32020)
    expect(check('016', 16)).toBe(-32020)
    expect(check('Infinity', Number.POSITIVE_INFINITY)).toBe(-32020)
    expect(check('1e1', 10)).toBe(-32020)
  })
})

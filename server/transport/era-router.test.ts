import { describe, expect, test } from 'bun:test'
import { classifyPost } from './era-router.ts'

const modernBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/list',
  params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
})
const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} })

describe('classifyPost', () => {
  test('a 2026 header is modern, even beside a session id', () => {
    const headers = new Headers({ 'mcp-protocol-version': '2026-07-28', 'mcp-session-id': 'x' })
    expect(classifyPost(headers, initialize)).toBe('modern')
  })

  test('a session id with a 2025 or unknown version stays with its session', () => {
    expect(classifyPost(new Headers({ 'mcp-session-id': 'x' }), modernBody)).toBe('legacy')
    const unknown = new Headers({ 'mcp-session-id': 'x', 'mcp-protocol-version': '1999-01-01' })
    expect(classifyPost(unknown, initialize)).toBe('legacy')
  })

  test('without a session: an unknown version header or a _meta version is modern', () => {
    expect(classifyPost(new Headers({ 'mcp-protocol-version': '1999-01-01' }), '{}')).toBe('modern')
    expect(classifyPost(new Headers(), modernBody)).toBe('modern')
  })

  test('initialize and bodies without a _meta version are 2025', () => {
    expect(classifyPost(new Headers(), initialize)).toBe('legacy')
    const old = new Headers({ 'mcp-protocol-version': '2025-11-25' })
    expect(classifyPost(old, initialize)).toBe('legacy')
    expect(classifyPost(new Headers(), 'not json "io.modelcontextprotocol/protocolVersion"')).toBe(
      'legacy',
    )
  })
})

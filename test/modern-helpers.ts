export const VERSION = '2026-07-28'
export const META = {
  'io.modelcontextprotocol/protocolVersion': VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
}

/** A 2026-07-28 POST with the SEP-2243 headers a conforming client sends. */
export function post(
  base: URL,
  id: number,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const name: Record<string, string> =
    typeof params.name === 'string' ? { 'mcp-name': params.name } : {}
  return fetch(new URL('/mcp', base), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': VERSION,
      'mcp-method': method,
      ...name,
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { _meta: META, ...params } }),
    ...(signal ? { signal } : {}),
  })
}

/** The same POST as raw text, for a client that never reads its answer (a raw socket). */
export function rawModernPost(
  base: URL,
  id: number,
  method: string,
  params: Record<string, unknown>,
  accept = 'application/json',
): string {
  const body = JSON.stringify({ jsonrpc: '2.0', id, method, params: { _meta: META, ...params } })
  const name = typeof params.name === 'string' ? `mcp-name: ${params.name}\r\n` : ''
  return (
    `POST /mcp HTTP/1.1\r\nHost: ${base.host}\r\ncontent-type: application/json\r\naccept: ${accept}\r\n` +
    `mcp-protocol-version: ${VERSION}\r\nmcp-method: ${method}\r\n${name}` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
}

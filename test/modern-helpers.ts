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

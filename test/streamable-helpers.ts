import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

export const ACCEPT_BOTH = 'application/json, text/event-stream'

export async function connectStreamable(base: URL) {
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', base))
  const client = new Client({ name: 'streamable-test', version: '1.0.0' })
  await client.connect(transport)
  return { client, transport }
}

/** initialize over raw HTTP; returns the session id. */
export async function initialize(
  base: URL,
  protocolVersion = '2025-11-25',
  headers: Record<string, string> = {},
) {
  const response = await fetch(new URL('/mcp', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  })
  return { response, sessionId: response.headers.get('mcp-session-id') ?? '' }
}

export function mcp(
  base: URL,
  sessionId: string,
  init: RequestInit & { headers?: Record<string, string> },
) {
  return fetch(new URL('/mcp', base), {
    ...init,
    headers: {
      'content-type': 'application/json',
      accept: ACCEPT_BOTH,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
      ...init.headers,
    },
  })
}

/** POSTs a `sleep` call answered as SSE; the controller aborts the POST's stream. */
export async function sleepOnStream(
  base: URL,
  sessionId: string,
  seconds: number,
  id: string | number = 1,
) {
  const controller = new AbortController()
  const post = await mcp(base, sessionId, {
    method: 'POST',
    headers: { accept: 'text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'sleep', arguments: { seconds } },
    }),
    signal: controller.signal,
  })
  return { controller, post }
}

/** POSTs a `sleep` call answered as one JSON body; resolves with that response. */
export function sleepAsJson(
  base: URL,
  sessionId: string,
  seconds: number,
  id: string | number,
  signal?: AbortSignal,
) {
  return mcp(base, sessionId, {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'sleep', arguments: { seconds } },
    }),
    ...(signal ? { signal } : {}),
  })
}

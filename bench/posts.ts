import autocannon from 'autocannon'
import { LegacyMcpSession } from '../loadtest/mcp-session.ts'
import { modernRequest } from '../loadtest/modern-client.ts'
import type { Target } from '../loadtest/target.ts'
import { STEP_TIMEOUT_MS } from './measure.ts'
import type { TransportKind } from './rpc-client.ts'

export interface PostResult {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  non2xx: number
}

/**
 * autocannon POSTs tools/call echo as fast as it can. For SSE servers the POST is answered 202
 * and the result drains on one session's stream; for Streamable HTTP the POST carries the result.
 */
export async function measurePosts(
  target: Target,
  kind: TransportKind,
  connections: number,
  durationS: number,
): Promise<PostResult> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { message: 'bench' } },
  })
  let url: string
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  let close: () => void
  if (kind === 'modern') {
    // Every POST stands alone: no session, the SEP-2243 headers and `_meta` on each.
    const request = modernRequest(1, 'tools/call', {
      name: 'echo',
      arguments: { message: 'bench' },
    })
    return runAutocannon(
      new URL('/mcp', target.base).href,
      { ...headers, ...request.headers },
      request.body,
      connections,
      durationS,
      () => {},
    )
  }
  if (kind === 'sse') {
    const session = await LegacyMcpSession.open(target.base, undefined, STEP_TIMEOUT_MS)
    await session.initialize(STEP_TIMEOUT_MS)
    url = session.postUrl.href
    close = () => session.connection.reset()
  } else {
    const init = await fetch(new URL('/mcp', target.base), {
      method: 'POST',
      headers: { ...headers, accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'bench', version: '1' },
        },
      }),
    })
    await init.arrayBuffer()
    headers.accept = 'application/json, text/event-stream'
    const sessionId = init.headers.get('mcp-session-id')
    if (sessionId) headers['mcp-session-id'] = sessionId
    headers['mcp-protocol-version'] = '2025-06-18'
    url = new URL('/mcp', target.base).href
    close = () => {}
  }
  return runAutocannon(url, headers, body, connections, durationS, close)
}

async function runAutocannon(
  url: string,
  headers: Record<string, string>,
  body: string,
  connections: number,
  durationS: number,
  close: () => void,
): Promise<PostResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    connections,
    duration: durationS,
  })
  close()
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
  }
}

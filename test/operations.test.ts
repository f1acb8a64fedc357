import { describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { startLocalSluice } from '../loadtest/target.ts'
import {
  INITIALIZE,
  openInitializedStream,
  openLegacyStream,
  post,
  postToolCall,
  readMetric,
  sessionNotFoundBody,
  startServer,
  waitFor,
} from './helpers.ts'

const unauthorized = (message: string) => ({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32000, message },
})

function withToken(token: string): typeof fetch {
  return ((url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers)
    headers.set('authorization', `Bearer ${token}`)
    return fetch(url, { ...init, headers })
  }) as typeof fetch
}

describe('graceful shutdown', () => {
  test('SIGTERM while a sleep call is in flight still delivers its result, then exits 0', async () => {
    const target = await startLocalSluice([])
    try {
      const client = new Client({ name: 'drain-test', version: '1.0.0' })
      await client.connect(new SSEClientTransport(new URL('/sse', target.base)))
      const call = client.callTool({ name: 'sleep', arguments: { seconds: 1 } })
      await waitFor(
        'the call to be in flight',
        async () => (await readMetric(target.base, 'sluice_tool_calls_in_flight')) === 1,
      )
      process.kill(target.pid!, 'SIGTERM')
      expect(await call).toEqual({ content: [{ type: 'text', text: 'slept 1s' }] })
      expect(await target.exited).toBe(0)
    } finally {
      await target.stop()
    }
  })

  test('during the drain, new connections are refused and the running call still answers', async () => {
    await using server = startServer({ drainTimeoutMs: 10_000 })
    const { reader, postUrl } = await openInitializedStream(server.url)
    await postToolCall(postUrl, 1, 'sleep', { seconds: 0.5 })
    await waitFor('the sleep to run', () => server.sessions.pendingCalls() === 1)
    const drained = server.shutdown()
    await expect(fetch(new URL('/sse', server.url))).rejects.toThrow()
    expect(JSON.parse((await reader.nextEvent())?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'slept 0.5s' }] },
    })
    expect(await reader.next()).toBeUndefined()
    expect(await drained).toBe(0)
  })

  test('while draining, requests on open connections and new sessions get 503', async () => {
    await using server = startServer()
    const { reader, postUrl } = await openLegacyStream(server.url)
    server.sessions.beginDrain()
    const refused = await post(postUrl, INITIALIZE)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('5')
    expect(await refused.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32000,
        message: 'Service Unavailable: sluice is shutting down; no new requests',
      },
    })
    // Notifications (a cancellation, say) are still taken.
    expect(
      (await post(postUrl, { jsonrpc: '2.0', method: 'notifications/initialized' })).status,
    ).toBe(202)
    expect((await fetch(new URL('/sse', server.url))).status).toBe(503)
    await reader.cancel()
  })

  test('what the drain deadline cuts off is counted', async () => {
    await using server = startServer()
    const { postUrl } = await openInitializedStream(server.url)
    await postToolCall(postUrl, 1, 'sleep', { seconds: 30 })
    await waitFor('the sleep to run', () => server.sessions.pendingCalls() === 1)
    expect(await server.shutdown(50)).toBe(1)
    expect(server.metrics.shutdownUndelivered.get({ kind: 'call' })).toBe(1)
  })
})

describe('bearer auth', () => {
  test('no token and a wrong token each get 401 with WWW-Authenticate; /health stays open', async () => {
    await using server = startServer({ authTokens: ['alpha', 'beta'] })
    const none = await fetch(new URL('/sse', server.url))
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="sluice"')
    expect(await none.json()).toEqual(unauthorized('Unauthorized: a bearer token is required'))

    const wrong = await fetch(new URL('/metrics', server.url), {
      headers: { authorization: 'Bearer gamma' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe(
      'Bearer realm="sluice", error="invalid_token"',
    )
    expect(await wrong.json()).toEqual(unauthorized('Unauthorized: the bearer token is not valid'))

    expect((await fetch(new URL('/health', server.url))).status).toBe(200)
    expect(server.sessions.size).toBe(0)
  })

  test('the SDK client works with a valid token, and another token cannot use its session', async () => {
    await using server = startServer({ authTokens: ['alpha', 'beta'] })
    const client = new Client({ name: 'auth-test', version: '1.0.0' })
    const transport = new SSEClientTransport(new URL('/sse', server.url), {
      fetch: withToken('alpha'),
      eventSourceInit: { fetch: withToken('alpha') },
    })
    await client.connect(transport)
    expect(await client.callTool({ name: 'echo', arguments: { message: 'authorized' } })).toEqual({
      content: [{ type: 'text', text: 'authorized' }],
    })
    const sessionId = server.sessions.ids().next().value ?? ''
    const asBeta = await withToken('beta')(new URL(`/message?sessionId=${sessionId}`, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
    })
    expect(asBeta.status).toBe(404)
    expect(await asBeta.json()).toEqual(sessionNotFoundBody(sessionId))
    await client.close()
  })
})

describe('limits', () => {
  test('the session cap answers 503 with Retry-After and counts the refusal', async () => {
    await using server = startServer({ maxSessions: 1 })
    const first = await openLegacyStream(server.url)
    const second = await fetch(new URL('/sse', server.url))
    expect(second.status).toBe(503)
    expect(second.headers.get('retry-after')).toBe('5')
    expect(await second.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32000,
        message: 'Service Unavailable: sluice holds its maximum of 1 sessions; retry later',
      },
    })
    expect(await readMetric(server.url, 'sluice_limit_refusals_total{limit="max_sessions"}')).toBe(
      1,
    )
    await first.reader.cancel()
  })

  test('a session over its concurrent-call limit gets an error for the extra call', async () => {
    await using server = startServer({ maxCallsPerSession: 1 })
    const { reader, postUrl, sessionId } = await openInitializedStream(server.url)
    await postToolCall(postUrl, 1, 'sleep', { seconds: 30 })
    await waitFor('the sleep to run', () => server.sessions.pendingCalls() === 1)
    await postToolCall(postUrl, 2, 'echo', { message: 'x' })
    expect(JSON.parse((await reader.nextEvent())?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: {
        code: -32001,
        message: `Too Many Requests: session ${sessionId} has 1 tool calls in flight, its limit; retry when one finishes`,
      },
    })
    expect(
      await readMetric(server.url, 'sluice_limit_refusals_total{limit="calls_per_session"}'),
    ).toBe(1)
    await reader.cancel()
  })
})

describe('CORS', () => {
  test('a preflight from an allowed origin gets the MCP headers; another origin gets 403', async () => {
    await using server = startServer({ corsOrigins: ['https://app.example'] })
    const preflight = (origin: string) =>
      fetch(new URL('/message', server.url), {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, mcp-session-id',
        },
      })
    const allowed = await preflight('https://app.example')
    expect(allowed.status).toBe(204)
    expect(
      Object.fromEntries([...allowed.headers].filter(([k]) => k.startsWith('access-control'))),
    ).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
      'access-control-allow-headers':
        'Content-Type, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Accept',
      'access-control-expose-headers': 'Mcp-Session-Id',
      'access-control-max-age': '86400',
    })
    expect((await preflight('https://evil.example')).status).toBe(403)

    const actual = await fetch(new URL('/health', server.url), {
      headers: { origin: 'https://app.example' },
    })
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(actual.headers.get('access-control-expose-headers')).toBe('Mcp-Session-Id')
  })

  test('a preflight needs no token even when auth is on', async () => {
    await using server = startServer({ corsOrigins: ['*'], authTokens: ['alpha'] })
    const response = await fetch(new URL('/sse', server.url), {
      method: 'OPTIONS',
      headers: { origin: 'https://any.example', 'access-control-request-method': 'GET' },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
  })
})

import { describe, expect, test } from 'bun:test'
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client'
import { readMetric, SseReader, startServer, waitFor } from './helpers.ts'
import { META, post, VERSION } from './modern-helpers.ts'

describe('2026-07-28 on POST /mcp', () => {
  test('answers an unsupported version with 400 and -32022 naming the supported ones', async () => {
    await using server = startServer()
    const meta = { ...META, 'io.modelcontextprotocol/protocolVersion': '1999-01-01' }
    const response = await post(
      server.url,
      7,
      'tools/list',
      { _meta: meta },
      {
        'mcp-protocol-version': '1999-01-01',
      },
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32022,
        message:
          'Unsupported protocol version: 1999-01-01; this server speaks 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05',
        data: {
          supported: ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'],
          requested: '1999-01-01',
        },
      },
    })
  })

  test('answers a header that does not match the body with 400 and -32020', async () => {
    await using server = startServer()
    const response = await post(server.url, 8, 'tools/list', {}, { 'mcp-method': 'tools/call' })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 8,
      error: {
        code: -32020,
        message:
          "Header mismatch: Mcp-Method header value 'tools/call' does not match body method 'tools/list'",
      },
    })
  })

  test('answers a body that is not JSON, too large or of another type as the 2025 era does', async () => {
    await using server = startServer({ maxBodyBytes: 1000 })
    const send = (body: string, type = 'application/json') =>
      fetch(new URL('/mcp', server.url), {
        method: 'POST',
        headers: {
          'content-type': type,
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': VERSION,
          'mcp-method': 'tools/list',
        },
        body,
      })
    const answers: Array<{ status: number; body: { error?: unknown } }> = []
    // One at a time: a refused body is not read, and its connection is not reused.
    for (const [body, type] of [
      ['{"jsonrpc":', undefined],
      ['', undefined],
      ['x'.repeat(2000), undefined],
      ['{}', 'text/plain'],
    ] as const) {
      const response = await send(body, type)
      answers.push({
        status: response.status,
        body: (await response.json()) as { error?: unknown },
      })
    }
    expect(answers.map((a) => a.status)).toEqual([400, 400, 413, 415])
    expect(answers.map((a) => a.body.error)).toEqual([
      { code: -32700, message: expect.stringMatching(/^Parse error: body is not valid JSON \(/) },
      { code: -32700, message: expect.stringMatching(/^Parse error: body is not valid JSON \(/) },
      {
        code: -32000,
        message: 'Payload Too Large: the body exceeds the limit of 1000 bytes',
      },
      {
        code: -32000,
        message: "Unsupported Media Type: expected application/json, got 'text/plain'",
      },
    ])
  })

  test('refuses an Accept of neither type with 406 before it reads the body as JSON', async () => {
    await using server = startServer()
    const send = (body: string, version?: string) =>
      fetch(new URL('/mcp', server.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/html',
          ...(version ? { 'mcp-protocol-version': version, 'mcp-method': 'tools/list' } : {}),
        },
        body,
      })
    const wellFormed = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { _meta: META },
    })
    const answers: Array<{ status: number; error: unknown }> = []
    // The header names 2026 or the body does: a body that is not JSON is refused as a good one is.
    for (const [body, version] of [
      [wellFormed, VERSION],
      ['{"jsonrpc":', VERSION],
      ['{"jsonrpc":', undefined],
    ] as const) {
      const response = await send(body, version)
      const { error } = (await response.json()) as { error: unknown }
      answers.push({ status: response.status, error })
    }
    const refused = {
      status: 406,
      error: {
        code: -32000,
        message: 'Not Acceptable: the client must accept application/json or text/event-stream',
      },
    }
    expect(answers).toEqual([refused, refused, refused])
  })

  test('answers an Mcp-Name whose base64 is not UTF-8 with 400 and -32020, not U+FFFD', async () => {
    await using server = startServer()
    const params = { name: '\uFFFD', arguments: {} }
    const response = await post(server.url, 9, 'tools/call', params, {
      'mcp-name': '=?base64?/w==?=',
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 9,
      error: {
        code: -32020,
        message: 'Header mismatch: Mcp-Name is not UTF-8 inside =?base64?…?=',
      },
    })
  })

  test('answers GET and DELETE without a 2025 session with 405', async () => {
    await using server = startServer()
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(new URL('/mcp', server.url), { method })
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('POST')
    }
  })

  test('a tools/list result carries resultType, serverInfo and the caching hint', async () => {
    await using server = startServer({ cacheTtlMs: 5_000, cacheScope: 'private' })
    const response = await post(server.url, 1, 'tools/list')
    const { result } = (await response.json()) as { result: Record<string, unknown> }
    expect(result.resultType).toBe('complete')
    expect(result.ttlMs).toBe(5_000)
    expect(result.cacheScope).toBe('private')
    expect(result._meta).toEqual({
      'io.modelcontextprotocol/serverInfo': { name: 'sluice', version: '0.1.0' },
    })
  })

  test('an SSE answer complete when it is built goes as one body, and the request is closed complete', async () => {
    await using server = startServer({ responseMode: 'sse' })
    const args = { name: 'echo', arguments: { message: 'at once' } }
    const response = await post(server.url, 3, 'tools/call', args)
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    // One body: its length is known up front, unlike a stream's.
    expect(response.headers.get('content-length')).not.toBeNull()
    const reader = new SseReader(response)
    expect(await reader.next()).toEqual({ comment: 'stream open' })
    const answer = await reader.next()
    expect(answer?.event).toBe('message')
    expect(JSON.parse(answer?.data ?? '')).toMatchObject({
      jsonrpc: '2.0',
      id: 3,
      result: { content: [{ type: 'text', text: 'at once' }], resultType: 'complete' },
    })
    expect(await reader.next()).toBeUndefined()
    expect(server.requests.inFlight).toBe(0)
    expect(
      await readMetric(server.url, 'sluice_stateless_requests_closed_total{reason="complete"}'),
    ).toBe(1)
    expect(server.sessions.budget.usedBytes).toBe(0)
  })

  test('closing an SSE response mid-call cancels the call and releases everything', async () => {
    await using server = startServer({ responseMode: 'sse' })
    const abort = new AbortController()
    const args = { name: 'sleep', arguments: { seconds: 30 } }
    const response = await post(server.url, 2, 'tools/call', args, {}, abort.signal)
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    const reader = new SseReader(response)
    expect(await reader.next()).toEqual({ comment: 'stream open' })
    expect(server.requests.pendingCalls()).toBe(1)
    abort.abort()
    const cancelled = 'sluice_tool_calls_total{outcome="cancelled",tool="sleep"}'
    await waitFor(
      'the cancellation',
      async () => (await readMetric(server.url, cancelled).catch(() => 0)) === 1,
    )
    await waitFor('the request to leave', () => server.requests.inFlight === 0)
    expect(await readMetric(server.url, 'sluice_requests_in_flight')).toBe(0)
    expect(await readMetric(server.url, 'sluice_cancel_latency_seconds_count')).toBe(1)
    expect(server.sessions.budget.usedBytes).toBe(0)
  })

  test('refuses a listen stream past --max-subscriptions', async () => {
    await using server = startServer({ maxSubscriptions: 1 })
    const abort = new AbortController()
    const filter = { notifications: { toolsListChanged: true } }
    const first = await post(server.url, 1, 'subscriptions/listen', filter, {}, abort.signal)
    const ack = await new SseReader(first).nextEvent()
    expect(JSON.parse(ack?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: {
        _meta: { 'io.modelcontextprotocol/subscriptionId': 1 },
        notifications: { toolsListChanged: true },
      },
    })
    const second = await post(server.url, 2, 'subscriptions/listen', filter)
    expect(second.status).toBe(503)
    expect(await readMetric(server.url, 'sluice_subscriptions_open')).toBe(1)
    abort.abort()
    await waitFor('the listen stream to close', () => server.requests.subscriptionsOpen === 0)
  })

  test('a listen stream hears updates of the resource URIs it named, and only those', async () => {
    await using server = startServer()
    const abort = new AbortController()
    const filter = { notifications: { resourceSubscriptions: ['test://a'] } }
    const response = await post(server.url, 3, 'subscriptions/listen', filter, {}, abort.signal)
    const reader = new SseReader(response)
    const ack = JSON.parse((await reader.nextEvent())?.data ?? '')
    expect(ack.params.notifications).toEqual({ resourceSubscriptions: ['test://a'] })
    server.notifyResourceUpdated('test://b')
    server.notifyResourceUpdated('test://a')
    expect(JSON.parse((await reader.nextEvent())?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/resources/updated',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 3 }, uri: 'test://a' },
    })
    abort.abort()
    await waitFor('the listen stream to close', () => server.requests.subscriptionsOpen === 0)
  })

  test('shutdown ends a listen stream gracefully, with the response to its request', async () => {
    const server = startServer()
    const client = new ClientV2(
      { name: 'sluice-test-v2', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: VERSION } } },
    )
    await client.connect(new TransportV2(new URL('/mcp', server.url)))
    const subscription = await client.listen({ toolsListChanged: true })
    await server.shutdown(1_000)
    expect(await subscription.closed).toBe('graceful')
    await client.close()
  })
})

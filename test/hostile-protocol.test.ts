import { describe, expect, test } from 'bun:test'
import { readMetric, SseReader, startServer, waitFor } from './helpers.ts'
import { initialize, mcp, sleepAsJson } from './streamable-helpers.ts'

const echo = (id: unknown, message: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message } },
})
const ping = (id: unknown) => ({ jsonrpc: '2.0', id, method: 'ping' })
const invalid = (message: string, id: unknown = null) => ({
  jsonrpc: '2.0',
  id,
  error: { code: -32600, message: `Invalid Request: ${message}` },
})

/** POSTs a body to the session and returns status and parsed JSON (or null for no body). */
async function postJson(base: URL, sessionId: string, body: unknown, accept = 'application/json') {
  const response = await mcp(base, sessionId, {
    method: 'POST',
    headers: { accept, 'mcp-protocol-version': '2025-03-26' },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null }
}

describe('request ids and batches', () => {
  test('a batch that repeats an id is refused before anything is queued', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url, '2025-03-26')
    const big = 'x'.repeat(64 * 1024)
    const batch = [echo(1, big), echo(2, big), echo(3, big), ping('d'), ping('d')]
    expect(await postJson(server.url, sessionId, batch)).toEqual({
      status: 400,
      body: invalid('request id "d" appears more than once in the batch'),
    })
    expect(server.sessions.get(sessionId)?.streamCount).toBe(1)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBe(0)
    // The session is untouched and answers the same ids when they are sent properly.
    expect(await postJson(server.url, sessionId, [ping('d'), ping('e')])).toEqual({
      status: 200,
      body: [
        { jsonrpc: '2.0', id: 'd', result: {} },
        { jsonrpc: '2.0', id: 'e', result: {} },
      ],
    })
  })

  test('a batch with more requests than one stream can queue is refused and the session kept', async () => {
    await using server = startServer({ maxQueueMessages: 16 })
    const { sessionId } = await initialize(server.url, '2025-03-26')
    const batch = Array.from({ length: 300 }, (_, i) => ping(i))
    expect(await postJson(server.url, sessionId, batch)).toEqual({
      status: 400,
      body: invalid(
        "a batch of 300 requests exceeds this server's limit of 16; send smaller batches",
      ),
    })
    expect(server.sessions.get(sessionId)?.isClosed).toBe(false)
    expect(await readMetric(server.url, 'sluice_limit_refusals_total{limit="batch_size"}')).toBe(1)
    expect((await postJson(server.url, sessionId, ping(1))).status).toBe(200)
  })

  test('ids that are null, fractional or objects are refused with 400 / -32600', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    for (const id of [null, 1.5, { a: 1 }, [1], true]) {
      const answer = await postJson(
        server.url,
        sessionId,
        ping(id),
        'application/json, text/event-stream',
      )
      expect({ id, ...answer }).toEqual({
        id,
        status: 400,
        body: invalid('"id" of a request must be a string or an integer'),
      })
    }
    expect(server.sessions.get(sessionId)?.streamCount).toBe(1)
  })

  test('a one-element batch from a 2025-06-18 or later session is refused like any batch', async () => {
    await using server = startServer()
    for (const version of ['2025-06-18', '2025-11-25']) {
      const { sessionId } = await initialize(server.url, version)
      const response = await mcp(server.url, sessionId, {
        method: 'POST',
        headers: { accept: 'application/json', 'mcp-protocol-version': version },
        body: JSON.stringify([ping(1)]),
      })
      expect({ version, status: response.status, body: await response.json() }).toEqual({
        version,
        status: 400,
        body: invalid('JSON-RPC batches are accepted only from 2025-03-26 clients'),
      })
    }
  })
})

describe('replies answered as one JSON body', () => {
  test('carry exactly the response, never a progress notification', async () => {
    await using server = startServer({ profile: 'conformance' })
    const { sessionId } = await initialize(server.url)
    const call = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 'p' } },
    }
    const response = await mcp(server.url, sessionId, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: JSON.stringify(call),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: 'Progress test completed' }] },
    })
  })

  test('cannot be taken by a GET with Last-Event-ID naming their stream', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const pending = sleepAsJson(server.url, sessionId, 0.3, 8)
    const session = server.sessions.get(sessionId)
    await waitFor('the JSON reply stream', () => (session?.streamCount ?? 0) === 2)
    const resume = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': '2_0' },
    })
    expect(resume.status).toBe(404)
    await resume.body?.cancel()
    const response = await pending
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 8,
      result: { content: [{ type: 'text', text: 'slept 0.3s' }] },
    })
  })
})

describe('cancellation over Streamable HTTP', () => {
  test('a cancelled call ends its POST stream and frees its id', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const call = {
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'sleep', arguments: { seconds: 30 } },
    }
    const post = await mcp(server.url, sessionId, {
      method: 'POST',
      headers: { accept: 'text/event-stream' },
      body: JSON.stringify(call),
    })
    const reader = new SseReader(post)
    expect((await reader.next())?.id).toBe('2_0')
    const cancel = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 9, reason: 'user' },
      }),
    })
    expect(cancel.status).toBe(202)
    // The stream ends with no response, as a cancelled request gets none.
    expect(await reader.nextEvent()).toBeUndefined()
    const session = server.sessions.get(sessionId)
    expect(session?.isRouted(9)).toBe(false)
    expect(session?.calls.size).toBe(0)
    // The id is free again.
    const again = await postJson(
      server.url,
      sessionId,
      { ...call, params: { name: 'echo', arguments: { message: 'hi' } } },
      'application/json',
    )
    expect(again).toEqual({
      status: 200,
      body: { jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text: 'hi' }] } },
    })
  })
})

describe('initialize', () => {
  test('a failed initialize answers its error without a session and holds no slot', async () => {
    await using server = startServer({ maxSessions: 2 })
    for (let i = 0; i < 20; i++) {
      const response = await fetch(new URL('/mcp', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'initialize', params: {} }),
      })
      expect(response.headers.get('mcp-session-id')).toBeNull()
      expect({ status: response.status, body: await response.json() }).toEqual({
        status: 400,
        body: {
          jsonrpc: '2.0',
          id: i,
          error: { code: -32602, message: 'Invalid params: initialize needs "protocolVersion"' },
        },
      })
    }
    expect(server.sessions.size).toBe(0)
    expect(await readMetric(server.url, 'sluice_sessions_opened_total')).toBe(0)
    expect((await initialize(server.url)).response.status).toBe(200)
  })

  test('--max-sessions-per-token holds each credential to its quota', async () => {
    await using server = startServer({ authTokens: ['alice', 'bob'], maxSessionsPerToken: 2 })
    const as = (token: string) => ({ authorization: `Bearer ${token}` })
    for (let i = 0; i < 2; i++) {
      expect((await initialize(server.url, '2025-11-25', as('alice'))).response.status).toBe(200)
    }
    const refused = await initialize(server.url, '2025-11-25', as('alice'))
    expect(refused.response.status).toBe(429)
    expect(refused.response.headers.get('retry-after')).toBe('5')
    expect(await refused.response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32000,
        message:
          'Too Many Requests: this credential holds its quota of 2 sessions; end one (DELETE) or retry later',
      },
    })
    // Another credential is not affected.
    expect((await initialize(server.url, '2025-11-25', as('bob'))).response.status).toBe(200)
    const metrics = await fetch(new URL('/metrics', server.url), { headers: as('bob') })
    expect(await metrics.text()).toContain(
      'sluice_limit_refusals_total{limit="sessions_per_token"} 1',
    )
  })
})

describe('a JSON reply to a cancelled request', () => {
  test('answers the cancelled request with -32800, as HTTP needs a body', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const pending = sleepAsJson(server.url, sessionId, 30, 'c')
    await waitFor('the call to start', () => server.sessions.pendingCalls() === 1)
    const cancel = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 'c' },
      }),
    })
    expect(cancel.status).toBe(202)
    const response = await pending
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 200,
      body: {
        jsonrpc: '2.0',
        id: 'c',
        error: { code: -32800, message: 'Request cancelled: request "c" has no result' },
      },
    })
  })
})

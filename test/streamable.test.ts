import { describe, expect, test } from 'bun:test'
import { readMetric, SseReader, sessionNotFoundBody, startServer, waitFor } from './helpers.ts'
import {
  ACCEPT_BOTH,
  connectStreamable,
  initialize,
  mcp,
  sleepOnStream,
} from './streamable-helpers.ts'

describe('Streamable HTTP with the official SDK client', () => {
  test('SSE responses: lists tools, calls echo and sleep, then DELETE ends the session', async () => {
    await using server = startServer()
    const { client, transport } = await connectStreamable(server.url)
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo', 'add', 'sleep'])
    expect(await client.callTool({ name: 'echo', arguments: { message: 'over /mcp' } })).toEqual({
      content: [{ type: 'text', text: 'over /mcp' }],
    })
    expect(await client.callTool({ name: 'sleep', arguments: { seconds: 0.05 } })).toEqual({
      content: [{ type: 'text', text: 'slept 0.05s' }],
    })
    const sessionId = transport.sessionId ?? ''
    expect(server.sessions.get(sessionId)).toBeDefined()
    await transport.terminateSession()
    expect(server.sessions.size).toBe(0)
    const after = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    expect(after.status).toBe(404)
    expect(await after.json()).toEqual(sessionNotFoundBody(sessionId))
    await client.close()
  })

  test('JSON responses when the server prefers them', async () => {
    await using server = startServer({ preferJson: true })
    const { client } = await connectStreamable(server.url)
    expect(await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).toEqual({
      content: [{ type: 'text', text: '3' }],
    })
    const { sessionId } = await initialize(server.url)
    const response = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
    })
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 7, result: {} })
    await client.close()
  })
})

describe('SSE replies answered at once', () => {
  test('a synchronous answer goes as one SSE body that a reconnect from its priming id replays', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const call = (id: number, name: string, args: Record<string, unknown>) =>
      mcp(server.url, sessionId, {
        method: 'POST',
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name, arguments: args },
        }),
      })
    const echo = await call(1, 'echo', { message: 'line one\nline two' })
    expect(echo.headers.get('content-type')).toBe('text/event-stream')
    // One body: its length is known up front, unlike a stream's.
    expect(echo.headers.get('content-length')).not.toBeNull()
    const reader = new SseReader(echo)
    const priming = await reader.next()
    const message = await reader.next()
    expect(await reader.next()).toBeUndefined()
    // The priming id names the position before the answer: a reconnect from it gets the answer.
    const stream = /^(\d+)_0$/.exec(priming?.id ?? '')?.[1]
    expect(stream).toBeDefined()
    expect(priming?.data).toBe('')
    expect(message?.id).toBe(`${stream}_1`)
    const answer = {
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'line one\nline two' }] },
    }
    expect(JSON.parse(message?.data ?? '')).toEqual(answer)
    const resumed = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': priming?.id ?? '' },
    })
    const replay = new SseReader(resumed)
    const again = await replay.nextEvent()
    expect(again?.id).toBe(`${stream}_1`)
    expect(JSON.parse(again?.data ?? '')).toEqual(answer)
    await replay.cancel()
    // An answer still to come is streamed: the priming event goes before the tool ends.
    const sleep = await call(2, 'sleep', { seconds: 0.05 })
    expect(sleep.headers.get('content-length')).toBeNull()
    const streamed = new SseReader(sleep)
    expect(await streamed.next()).toMatchObject({ id: `${Number(stream) + 1}_0`, data: '' })
    expect(JSON.parse((await streamed.nextEvent())?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: { content: [{ type: 'text', text: 'slept 0.05s' }] },
    })
  })
})

describe('progress notifications', () => {
  test("a tool's progress reaches the SDK client on its request's stream", async () => {
    await using server = startServer({ profile: 'conformance' })
    const { client } = await connectStreamable(server.url)
    const seen: Array<{ progress: number; total?: number }> = []
    const result = await client.callTool(
      { name: 'test_tool_with_progress', arguments: {} },
      undefined,
      {
        onprogress: ({ progress, total }) => seen.push({ progress, total }),
      },
    )
    expect(result).toEqual({ content: [{ type: 'text', text: 'Progress test completed' }] })
    expect(seen).toEqual([
      { progress: 0, total: 100 },
      { progress: 50, total: 100 },
      { progress: 100, total: 100 },
    ])
    await client.close()
  })
})

describe('Streamable HTTP resumability', () => {
  test('a client that reconnects with Last-Event-ID mid-call gets the result', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const { controller, post } = await sleepOnStream(server.url, sessionId, 0.3)
    const reader = new SseReader(post)
    // The priming event: an event id (stream_position) and empty data.
    const priming = await reader.next()
    expect(priming).toEqual({ id: expect.stringMatching(/^\d+_0$/), data: '' })
    const streamNumber = Number(priming?.id?.split('_')[0])
    controller.abort()
    const session = server.sessions.get(sessionId)
    await waitFor('the stream to be left', () => !session?.isAttached(session.stream(streamNumber)))
    expect(session?.calls.size).toBe(1)

    const resumed = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: { 'last-event-id': priming?.id ?? '' },
    })
    expect(resumed.status).toBe(200)
    const events = new SseReader(resumed)
    const first = await events.nextEvent()
    expect(first?.id).toBe(`${streamNumber}_1`)
    expect(JSON.parse(first?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'slept 0.3s' }] },
    })
    expect(await events.next()).toBeUndefined()
  })

  test('POST streams a client leaves unread cannot grow its session past the retained bound', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    for (let i = 0; i < 40; i++) {
      const { controller, post } = await sleepOnStream(server.url, sessionId, 0, i + 1)
      await new SseReader(post).next()
      controller.abort()
    }
    const session = server.sessions.get(sessionId)
    await waitFor('every call to answer', () => session?.calls.size === 0)
    // The 16 newest abandoned streams are kept for replay, plus the standalone stream.
    expect(session?.streamCount).toBeLessThanOrEqual(17)
    expect((await mcp(server.url, sessionId, { method: 'DELETE' })).status).toBe(200)
  })

  test('a request id already in flight in the session is refused', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const first = await sleepOnStream(server.url, sessionId, 30, 5)
    const again = await sleepOnStream(server.url, sessionId, 1, 5)
    expect(again.post.status).toBe(400)
    expect(await again.post.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32600,
        message: `Invalid Request: request id 5 is already in flight in session ${sessionId}`,
      },
    })
    first.controller.abort()
  })

  test('the standalone GET stream is one per session: a second gets 409', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const first = await mcp(server.url, sessionId, { method: 'GET' })
    expect(first.status).toBe(200)
    const second = await mcp(server.url, sessionId, { method: 'GET' })
    expect(second.status).toBe(409)
    await first.body?.cancel()
  })

  test('a client that aborts a POST stream mid-response leaves nothing once its session ends', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const { controller, post } = await sleepOnStream(server.url, sessionId, 30)
    await new SseReader(post).next()
    controller.abort()
    await waitFor(
      'the stream to close',
      async () => (await readMetric(server.url, 'sluice_sse_streams_open')) === 0,
    )
    expect(server.sessions.pendingCalls()).toBe(1)
    expect((await mcp(server.url, sessionId, { method: 'DELETE' })).status).toBe(200)
    expect(server.sessions.size).toBe(0)
    expect(server.sessions.pendingCalls()).toBe(0)
    expect(
      await readMetric(server.url, 'sluice_sessions_closed_total{reason="client_delete"}'),
    ).toBe(1)
  })
})

describe('Streamable HTTP refusals', () => {
  test('a bad Origin gets 403 and creates nothing', async () => {
    await using server = startServer()
    const { response } = await initialize(server.url, '2025-11-25', {
      origin: 'https://evil.example',
    })
    expect(response.status).toBe(403)
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'Forbidden: origin https://evil.example is not allowed' },
    })
    expect(server.sessions.size).toBe(0)
    expect(
      (await initialize(server.url, '2025-11-25', { origin: 'http://localhost:6274' })).response
        .status,
    ).toBe(200)
  })

  test('an unsupported protocol version gets 400; a missing session id 400; Accept of neither 406', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
    const badVersion = await mcp(server.url, sessionId, {
      method: 'POST',
      headers: { 'mcp-protocol-version': '1999-01-01' },
      body: ping,
    })
    expect(badVersion.status).toBe(400)
    expect(await badVersion.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'Bad Request: unsupported MCP-Protocol-Version 1999-01-01' },
    })
    const noSession = await fetch(new URL('/mcp', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH },
      body: ping,
    })
    expect(noSession.status).toBe(400)
    const neither = await mcp(server.url, sessionId, {
      method: 'POST',
      headers: { accept: 'text/html' },
      body: ping,
    })
    expect(neither.status).toBe(406)
  })

  test('batches are accepted only from 2025-03-26 clients', async () => {
    await using server = startServer()
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'add', arguments: { a: 2, b: 2 } },
      },
    ])
    const old = await initialize(server.url, '2025-03-26')
    const accepted = await mcp(server.url, old.sessionId, {
      method: 'POST',
      headers: { accept: 'application/json', 'mcp-protocol-version': '2025-03-26' },
      body: batch,
    })
    expect(await accepted.json()).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: '4' }] } },
    ])
    const current = await initialize(server.url, '2025-11-25')
    const refused = await mcp(server.url, current.sessionId, { method: 'POST', body: batch })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { code: number } }).error.code).toBe(-32600)
  })
})

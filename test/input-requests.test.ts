import { describe, expect, test } from 'bun:test'
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { Type } from '@sinclair/typebox'
import { CallEndedError } from '../server/protocol/context.ts'
import { connect, pending, startFeatureServer, TRANSPORTS } from './feature-helpers.ts'
import { INITIALIZE, openLegacyStream, post, readMetric, SseReader, waitFor } from './helpers.ts'
import { initialize, mcp } from './streamable-helpers.ts'

for (const transport of TRANSPORTS) {
  describe(`input requests with the official SDK client (${transport})`, () => {
    test('answers elicitation, sampling and roots requests from inside a tool call', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      c.client.setRequestHandler(ElicitRequestSchema, (req) => {
        expect(req.params.message).toBe('Please provide your information')
        return { action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }
      })
      c.client.setRequestHandler(CreateMessageRequestSchema, (req) => ({
        role: 'assistant',
        content: { type: 'text', text: `echo ${JSON.stringify(req.params.messages[0]?.content)}` },
        model: 'test-model',
      }))
      c.client.setRequestHandler(ListRootsRequestSchema, () => ({
        roots: [{ uri: 'file:///work', name: 'work' }, { uri: 'file:///tmp' }],
      }))
      expect(
        await c.client.callTool({
          name: 'test_elicitation',
          arguments: { message: 'Please provide your information' },
        }),
      ).toEqual({
        content: [
          {
            type: 'text',
            text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}',
          },
        ],
      })
      expect(
        await c.client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } }),
      ).toEqual({
        content: [{ type: 'text', text: 'LLM response: echo {"type":"text","text":"hi"}' }],
      })
      expect(await c.client.callTool({ name: 'roots', arguments: {} })).toEqual({
        content: [{ type: 'text', text: 'file:///work,file:///tmp' }],
      })
      expect(await pending(server)).toBe(0)
      expect(
        await readMetric(
          server.url,
          'sluice_input_requests_total{method="elicitation/create",outcome="ok"}',
        ),
      ).toBe(1)
    })

    test('a roots/list_changed notification reaches the server listeners with its session', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      const heard = Promise.withResolvers<string>()
      server.onRootsListChanged((sessionId) => heard.resolve(sessionId))
      await c.client.sendRootsListChanged()
      expect([...server.sessions.ids()]).toContain(await heard.promise)
    })

    test('refuses an input request the client did not declare a capability for', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport, {})
      expect(await c.client.callTool({ name: 'ask', arguments: {} })).toEqual({
        isError: true,
        content: [
          {
            type: 'text',
            text: expect.stringContaining('did not declare the elicitation capability'),
          },
        ],
      })
      const form = await connect(server.url, transport, { elicitation: {} })
      expect(await form.client.callTool({ name: 'ask_url', arguments: {} })).toEqual({
        isError: true,
        content: [
          {
            type: 'text',
            text: expect.stringContaining('did not declare the elicitation.url capability'),
          },
        ],
      })
      await form.client.close()
      // client/elicitation: `{ url: {} }` supports URL mode only; form mode must not be sent.
      const urlOnly = await connect(server.url, transport, { elicitation: { url: {} } })
      expect(await urlOnly.client.callTool({ name: 'ask', arguments: {} })).toEqual({
        isError: true,
        content: [
          {
            type: 'text',
            text: expect.stringContaining('did not declare the elicitation.form capability'),
          },
        ],
      })
      await urlOnly.client.close()
      expect(await pending(server)).toBe(0)
    })

    test('cancelling the tool call cancels its elicitation on the client', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      const asked = Promise.withResolvers<void>()
      const clientCancelled = Promise.withResolvers<void>()
      c.client.setRequestHandler(ElicitRequestSchema, (_req, extra) => {
        asked.resolve()
        return new Promise((_resolve, reject) => {
          extra.signal.addEventListener('abort', () => {
            clientCancelled.resolve()
            reject(new Error('cancelled'))
          })
        })
      })
      const controller = new AbortController()
      const call = c.client.callTool({ name: 'ask', arguments: {} }, undefined, {
        signal: controller.signal,
      })
      await asked.promise
      expect(await pending(server)).toBe(1)
      controller.abort('user gave up')
      await expect(call).rejects.toThrow()
      await clientCancelled.promise
      await waitFor('the input request to be released', async () => (await pending(server)) === 0)
      expect(
        await readMetric(
          server.url,
          'sluice_input_requests_total{method="elicitation/create",outcome="cancelled"}',
        ),
      ).toBe(1)
    })

    test('an input request the call left waiting is cancelled on the client when the call ends', async () => {
      await using server = startFeatureServer()
      const left = Promise.withResolvers<unknown>()
      server.tool(
        'ask_and_leave',
        { description: 'Elicits without waiting for the answer.', input: Type.Object({}) },
        (_a, ctx) => {
          ctx
            .elicit({
              message: 'Still there?',
              requestedSchema: { type: 'object', properties: {} },
            })
            .then(left.resolve, left.resolve)
          return 'returned'
        },
      )
      await using c = await connect(server.url, transport)
      const clientCancelled = Promise.withResolvers<unknown>()
      c.client.setRequestHandler(
        ElicitRequestSchema,
        (_req, extra) =>
          new Promise((_resolve, reject) => {
            // The cancellation may reach the client before this handler runs.
            const cancelled = () => {
              clientCancelled.resolve(extra.signal.reason)
              reject(new Error('cancelled'))
            }
            if (extra.signal.aborted) cancelled()
            else extra.signal.addEventListener('abort', cancelled)
          }),
      )
      expect(await c.client.callTool({ name: 'ask_and_leave', arguments: {} })).toEqual({
        content: [{ type: 'text', text: 'returned' }],
      })
      // Released when the call ended, before its result was sent.
      expect(await pending(server)).toBe(0)
      expect(await left.promise).toEqual(
        new CallEndedError('Input request: the call 1 that asked for it ended'),
      )
      expect(await clientCancelled.promise).toBe(
        'the request that asked for elicitation/create ended',
      )
      expect(
        await readMetric(
          server.url,
          'sluice_input_requests_total{method="elicitation/create",outcome="cancelled"}',
        ),
      ).toBe(1)
    })

    test('a client that disconnects during an elicitation leaves no pending request', async () => {
      await using server = startFeatureServer()
      const c = await connect(server.url, transport)
      const asked = Promise.withResolvers<void>()
      c.client.setRequestHandler(ElicitRequestSchema, () => {
        asked.resolve()
        return new Promise(() => {})
      })
      void c.client.callTool({ name: 'ask', arguments: {} }).catch(() => {})
      await asked.promise
      expect(await pending(server)).toBe(1)
      await c.disconnect()
      await waitFor('the session to close', () => server.sessions.size === 0)
      expect(await pending(server)).toBe(0)
      expect(server.sessions.pendingCalls()).toBe(0)
      expect(
        await readMetric(
          server.url,
          'sluice_input_requests_total{method="elicitation/create",outcome="session_closed"}',
        ),
      ).toBe(1)
    })

    test('an unanswered input request times out and the tool sees an error', async () => {
      await using server = startFeatureServer({ inputRequestTimeoutMs: 100 })
      await using c = await connect(server.url, transport)
      c.client.setRequestHandler(ElicitRequestSchema, () => new Promise(() => {}))
      const result = await c.client.callTool({ name: 'ask', arguments: {} })
      expect(result).toEqual({
        isError: true,
        content: [
          { type: 'text', text: expect.stringContaining('did not answer elicitation/create') },
        ],
      })
      expect(await pending(server)).toBe(0)
    })
  })
}

describe('JSON replies (--prefer-json)', () => {
  test('log messages and an elicitation travel on the standalone stream; the body is the result', async () => {
    await using server = startFeatureServer({ preferJson: true })
    await using c = await connect(server.url, 'streamable')
    const logs: unknown[] = []
    c.client.setNotificationHandler(LoggingMessageNotificationSchema, (note) => {
      logs.push(note.params.data)
    })
    c.client.setRequestHandler(ElicitRequestSchema, () => ({
      action: 'accept',
      content: { name: 'Ada' },
    }))
    await c.client.setLoggingLevel('error')
    expect(await c.client.callTool({ name: 'log_levels', arguments: {} })).toEqual({
      content: [{ type: 'text', text: 'logged' }],
    })
    expect(await c.client.callTool({ name: 'ask', arguments: {} })).toEqual({
      content: [{ type: 'text', text: 'accept:Ada' }],
    })
    await waitFor('the log message on the standalone stream', () => logs.length === 1)
    expect(logs).toEqual(['an error'])
  })
})

describe('input request responses', () => {
  test('a response for an id the server never asked is ignored and counted', async () => {
    await using server = startFeatureServer()
    await using c = await connect(server.url, 'legacy')
    const sessionId = [...server.sessions.ids()][0]
    const response = await fetch(new URL(`/message?sessionId=${sessionId}`, server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 999, result: { action: 'accept' } }),
    })
    expect(response.status).toBe(202)
    await waitFor(
      'the ignored response to be counted',
      async () => (await readMetric(server.url, 'sluice_input_responses_ignored_total')) === 1,
    )
    expect(await c.client.ping()).toEqual({})
  })
})

/** The next JSON-RPC message of an SSE stream, past the priming event (empty data). */
async function nextMessage(reader: SseReader): Promise<Record<string, unknown> & { id?: unknown }> {
  for (;;) {
    const frame = await reader.nextEvent()
    if (!frame) throw new Error('the stream ended')
    if (frame.data) return JSON.parse(frame.data)
  }
}

describe('input requests on the wire (Streamable HTTP)', () => {
  test('an elicitation travels on the stream of the call that asked; the answer is a 202 POST', async () => {
    await using server = startFeatureServer()
    const mcp = new URL('/mcp', server.url)
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    }
    const init = await fetch(mcp, {
      method: 'POST',
      headers: { ...headers, accept: 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: { elicitation: {} },
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    })
    const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id') ?? '' }
    const call = await fetch(mcp, {
      method: 'POST',
      headers: { ...session, accept: 'text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'ask', arguments: {} },
      }),
    })
    const reader = new SseReader(call)
    const asked = await nextMessage(reader)
    expect(asked).toEqual({
      jsonrpc: '2.0',
      id: expect.any(Number),
      method: 'elicitation/create',
      params: {
        message: 'Your name?',
        requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
      },
    })
    const answer = await fetch(mcp, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: asked.id,
        result: { action: 'accept', content: { name: 'Ada' } },
      }),
    })
    expect(answer.status).toBe(202)
    expect(await nextMessage(reader)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'accept:Ada' }] },
    })
    expect(await reader.nextEvent()).toBeUndefined()
  })
})

describe('roots/list_changed listeners', () => {
  test('a throwing listener neither fails the batch nor keeps its ids in flight', async () => {
    await using server = startFeatureServer()
    const heard: string[] = []
    server.onRootsListChanged(() => {
      throw new Error('listener bug')
    })
    server.onRootsListChanged(async () => {
      throw new Error('async listener bug')
    })
    server.onRootsListChanged((sessionId) => {
      heard.push(sessionId)
    })
    const { response, sessionId } = await initialize(server.url, '2025-03-26')
    await response.text()
    const headers = { 'mcp-protocol-version': '2025-03-26', accept: 'application/json' }
    const batch = await mcp(server.url, sessionId, {
      method: 'POST',
      headers,
      body: JSON.stringify([
        { jsonrpc: '2.0', method: 'notifications/roots/list_changed' },
        { jsonrpc: '2.0', id: 7, method: 'ping' },
      ]),
    })
    expect(batch.status).toBe(200)
    expect(await batch.json()).toEqual([{ jsonrpc: '2.0', id: 7, result: {} }])
    expect(heard).toEqual([sessionId])
    const again = await mcp(server.url, sessionId, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' }),
    })
    expect(await again.json()).toEqual({ jsonrpc: '2.0', id: 7, result: {} })
  })

  test('listeners do not hear a session before it is initialized', async () => {
    await using server = startFeatureServer()
    const heard: string[] = []
    const second = Promise.withResolvers<void>()
    server.onRootsListChanged((sessionId) => {
      heard.push(sessionId)
      second.resolve()
    })
    const stream = await openLegacyStream(server.url)
    const changed = { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }
    expect((await post(stream.postUrl, changed)).status).toBe(202)
    await post(stream.postUrl, INITIALIZE)
    await stream.reader.nextEvent()
    await post(stream.postUrl, changed)
    await second.promise
    expect(heard).toEqual([stream.sessionId])
    await stream.reader.cancel()
  })
})

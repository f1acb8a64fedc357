import { describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { Type } from '@sinclair/typebox'
import type { SluiceServer } from '../server/server.ts'
import { readMetric, SseReader, startServer, waitFor } from './helpers.ts'

type Transport = 'legacy' | 'streamable'
const TRANSPORTS: Transport[] = ['legacy', 'streamable']
const ALL_CAPABILITIES = { elicitation: {}, sampling: {}, roots: { listChanged: true } }

interface Connected {
  client: Client
  /** Ends the session from the client's side: the stream goes (legacy) or DELETE (Streamable). */
  disconnect(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** The official SDK client on either transport, declaring `capabilities`. */
async function connect(
  base: URL,
  transport: Transport,
  capabilities: Record<string, unknown> = ALL_CAPABILITIES,
): Promise<Connected> {
  const client = new Client({ name: 'sluice-test', version: '1.0.0' }, { capabilities })
  if (transport === 'legacy') {
    await client.connect(new SSEClientTransport(new URL('/sse', base)))
    return { client, disconnect: () => client.close(), [Symbol.asyncDispose]: () => client.close() }
  }
  const http = new StreamableHTTPClientTransport(new URL('/mcp', base))
  await client.connect(http)
  return {
    client,
    disconnect: async () => {
      await http.terminateSession()
      await client.close()
    },
    [Symbol.asyncDispose]: () => client.close(),
  }
}

/** A server with the conformance fixtures and a few tools that use the whole handler context. */
function startFeatureServer(overrides: Parameters<typeof startServer>[0] = {}) {
  const server = startServer({ profile: 'conformance', ...overrides })
  server
    .tool(
      'log_levels',
      { description: 'Logs at four levels.', input: Type.Object({}) },
      (_a, ctx) => {
        ctx.log('debug', 'a debug line')
        ctx.log('info', { step: 'info' })
        ctx.log('warning', 'a warning', 'sluice-test')
        ctx.log('error', 'an error')
        return 'logged'
      },
    )
    .tool(
      'roots',
      { description: 'Lists the client roots.', input: Type.Object({}) },
      async (_a, ctx) => {
        const { roots } = await ctx.listRoots()
        return roots.map((r) => r.uri).join(',')
      },
    )
    .tool('ask', { description: 'Elicits a name.', input: Type.Object({}) }, async (_a, ctx) => {
      const result = await ctx.elicit({
        message: 'Your name?',
        requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
      })
      return `${result.action}:${String(result.content?.name ?? '')}`
    })
  return server
}

const pending = (server: SluiceServer) => readMetric(server.url, 'sluice_input_requests_pending')

for (const transport of TRANSPORTS) {
  describe(`MCP features with the official SDK client (${transport})`, () => {
    test('announces the capabilities of what is registered', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      expect(c.client.getServerCapabilities()).toEqual({
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        completions: {},
        logging: {},
      })
    })

    test('lists and reads resources and templates; an unknown URI is -32002', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      const { resources } = await c.client.listResources()
      expect(resources.map((r) => r.uri)).toEqual([
        'test://static-text',
        'test://static-binary',
        'test://watched-resource',
      ])
      expect(await c.client.readResource({ uri: 'test://static-text' })).toEqual({
        contents: [
          {
            uri: 'test://static-text',
            mimeType: 'text/plain',
            text: 'This is the content of the static text resource.',
          },
        ],
      })
      const binary = await c.client.readResource({ uri: 'test://static-binary' })
      expect(binary.contents[0]).toEqual({
        uri: 'test://static-binary',
        mimeType: 'image/png',
        blob: expect.any(String),
      })
      expect((await c.client.listResourceTemplates()).resourceTemplates).toEqual([
        {
          uriTemplate: 'test://template/{id}/data',
          name: 'template-data',
          description: 'Data by id',
          mimeType: 'application/json',
        },
      ])
      expect(await c.client.readResource({ uri: 'test://template/7/data' })).toEqual({
        contents: [
          {
            uri: 'test://template/7/data',
            mimeType: 'application/json',
            text: '{"id":"7","templateTest":true,"data":"Data for ID: 7"}',
          },
        ],
      })
      await expect(c.client.readResource({ uri: 'test://nothing' })).rejects.toMatchObject({
        code: -32002,
      })
    })

    test('delivers notifications/resources/updated to a subscriber until it unsubscribes', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      const updates: string[] = []
      const updated = Promise.withResolvers<void>()
      c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (note) => {
        updates.push(note.params.uri)
        updated.resolve()
      })
      await c.client.subscribeResource({ uri: 'test://watched-resource' })
      expect(server.notifyResourceUpdated('test://watched-resource')).toBe(1)
      await updated.promise
      expect(updates).toEqual(['test://watched-resource'])
      await c.client.unsubscribeResource({ uri: 'test://watched-resource' })
      expect(server.notifyResourceUpdated('test://watched-resource')).toBe(0)
    })

    test('gets prompts with arguments validated by their TypeBox schema', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      const { prompts } = await c.client.listPrompts()
      expect(prompts.find((p) => p.name === 'test_prompt_with_arguments')).toEqual({
        name: 'test_prompt_with_arguments',
        description: 'A prompt with arguments',
        arguments: [
          { name: 'arg1', description: 'First test argument', required: true },
          { name: 'arg2', description: 'Second test argument', required: true },
        ],
      })
      expect(
        await c.client.getPrompt({
          name: 'test_prompt_with_arguments',
          arguments: { arg1: 'hello', arg2: 'world' },
        }),
      ).toEqual({
        messages: [
          {
            role: 'user',
            content: { type: 'text', text: "Prompt with arguments: arg1='hello', arg2='world'" },
          },
        ],
      })
      await expect(
        c.client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'x' } }),
      ).rejects.toMatchObject({ code: -32602 })
      await expect(c.client.getPrompt({ name: 'nope' })).rejects.toMatchObject({ code: -32602 })
    })

    test('completes prompt arguments and template variables', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      expect(
        await c.client.complete({
          ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
          argument: { name: 'arg1', value: 'par' },
        }),
      ).toEqual({ completion: { values: ['paris', 'park', 'party'], total: 3, hasMore: false } })
      expect(
        await c.client.complete({
          ref: { type: 'ref/resource', uri: 'test://template/{id}/data' },
          argument: { name: 'id', value: '4' },
        }),
      ).toEqual({ completion: { values: ['456'], total: 1, hasMore: false } })
    })

    test('sends log messages at or above the level the session set', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      const logs: unknown[] = []
      c.client.setNotificationHandler(LoggingMessageNotificationSchema, (note) => {
        logs.push(note.params)
      })
      await c.client.setLoggingLevel('warning')
      expect(await c.client.callTool({ name: 'log_levels', arguments: {} })).toEqual({
        content: [{ type: 'text', text: 'logged' }],
      })
      // Log messages travel before the result on the same stream.
      expect(logs).toEqual([
        { level: 'warning', data: 'a warning', logger: 'sluice-test' },
        { level: 'error', data: 'an error' },
      ])
    })

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

    test('registrations change at run time and clients hear list_changed', async () => {
      await using server = startFeatureServer()
      await using c = await connect(server.url, transport)
      const toolsChanged = Promise.withResolvers<void>()
      const promptsChanged = Promise.withResolvers<void>()
      c.client.setNotificationHandler(ToolListChangedNotificationSchema, () =>
        toolsChanged.resolve(),
      )
      c.client.setNotificationHandler(PromptListChangedNotificationSchema, () =>
        promptsChanged.resolve(),
      )
      server.tool('late', { description: 'Added later.', input: Type.Object({}) }, () => 'late')
      await toolsChanged.promise
      expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('late')
      expect(server.setEnabled('tool', 'late', false)).toBe(true)
      expect((await c.client.listTools()).tools.map((t) => t.name)).not.toContain('late')
      await expect(c.client.callTool({ name: 'late', arguments: {} })).rejects.toMatchObject({
        code: -32602,
      })
      expect(server.remove('prompt', 'test_simple_prompt')).toBe(true)
      await promptsChanged.promise
      const names = (await c.client.listPrompts()).prompts.map((p) => p.name)
      expect(names).not.toContain('test_simple_prompt')
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

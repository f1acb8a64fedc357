import { describe, expect, test } from 'bun:test'
import {
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { Type } from '@sinclair/typebox'
import { createServer } from '../server/index.ts'
import { connect, startFeatureServer, TRANSPORTS } from './feature-helpers.ts'
import { startServer } from './helpers.ts'
import { initialize, mcp } from './streamable-helpers.ts'

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

describe('the public createServer API', () => {
  test('registers resources, templates and prompts that an SDK client reads', async () => {
    await using server = createServer({ name: 'app', version: '1.0.0', port: 0 })
    server
      .resource('config://app', { name: 'app-config', mimeType: 'application/json' }, () => '{}')
      .resourceTemplate('users://{id}', { name: 'user' }, (_uri, vars) => `user ${vars.get('id')}`)
      .prompt(
        'greet',
        { args: Type.Object({ who: Type.String() }) },
        ({ who }) => `Say hello to ${who}.`,
      )
    const { url } = await server.listen()
    await using c = await connect(url, 'streamable')
    expect(await c.client.readResource({ uri: 'users://ada' })).toEqual({
      contents: [{ uri: 'users://ada', text: 'user ada' }],
    })
    expect(
      (await c.client.getPrompt({ name: 'greet', arguments: { who: 'Ada' } })).messages,
    ).toEqual([{ role: 'user', content: { type: 'text', text: 'Say hello to Ada.' } }])
    expect(server.remove('resource', 'config://app')).toBe(true)
    expect((await c.client.listResources()).resources).toEqual([])
  })
})

describe('polling (SEP-1699)', () => {
  for (const transport of TRANSPORTS) {
    test(`ctx.closeStream() on ${transport}: the SDK client still gets the result`, async () => {
      await using server = startFeatureServer()
      server.tool(
        'poll',
        { description: 'Lets go of its stream.', input: Type.Object({}) },
        async (_a, ctx) => {
          // The POST's stream gets its reader once dispatch has returned.
          await Promise.resolve()
          return String(ctx.closeStream())
        },
      )
      await using c = await connect(server.url, transport)
      // Streamable HTTP: the stream closed, the client resumed it with Last-Event-ID. Legacy: no-op.
      expect(await c.client.callTool({ name: 'poll', arguments: {} })).toEqual({
        content: [{ type: 'text', text: String(transport === 'streamable') }],
      })
    })
  }
})

describe('what a session was announced at initialize', () => {
  for (const transport of TRANSPORTS) {
    test(`a session told of no resources or prompts gets -32601 for them and no list_changed (${transport})`, async () => {
      await using server = startServer()
      await using early = await connect(server.url, transport)
      expect(early.client.getServerCapabilities()).toEqual({
        tools: { listChanged: true },
        logging: {},
      })
      await expect(early.client.listResources()).rejects.toMatchObject({
        code: -32601,
        message: 'MCP error -32601: Method not found: resources/list',
      })
      await expect(early.client.listPrompts()).rejects.toMatchObject({ code: -32601 })
      const heard: string[] = []
      const toolsChanged = Promise.withResolvers<void>()
      early.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
        heard.push('resources')
      })
      early.client.setNotificationHandler(PromptListChangedNotificationSchema, () => {
        heard.push('prompts')
      })
      early.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        heard.push('tools')
        toolsChanged.resolve()
      })
      server.resource('config://app', { name: 'app-config' }, () => '{}')
      server.prompt('greet', {}, () => 'Hello.')
      // Scheduled after the resources and prompts list_changed of the same tick, so it arrives
      // after them on the same stream if they were sent at all.
      server.tool('late', { description: 'Added later.', input: Type.Object({}) }, () => 'late')
      await toolsChanged.promise
      expect(heard).toEqual(['tools'])
      await using late = await connect(server.url, transport)
      expect(late.client.getServerCapabilities()).toMatchObject({
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
      })
      expect((await late.client.listResources()).resources).toEqual([
        { uri: 'config://app', name: 'app-config' },
      ])
    })
  }
})

describe('what sessions share from their initialize', () => {
  test('a handler cannot change the capabilities another session declared alike', async () => {
    await using server = startServer()
    server.tool(
      'declared',
      { description: 'Tries to widen what its client declared.', input: Type.Object({}) },
      (_a, ctx) => {
        let widened = 'widened'
        try {
          ;(ctx.clientCapabilities as Record<string, unknown>).experimental = { widened: {} }
        } catch {
          widened = 'refused'
        }
        return `${widened} ${JSON.stringify(ctx.clientCapabilities)}`
      },
    )
    const capabilities = { roots: { listChanged: true } }
    await using first = await connect(server.url, 'streamable', capabilities)
    await using second = await connect(server.url, 'streamable', capabilities)
    const text = async (c: typeof first) => {
      const result = await c.client.callTool({ name: 'declared', arguments: {} })
      return (result.content as { text: string }[])[0]?.text
    }
    expect(await text(first)).toBe('refused {"roots":{"listChanged":true}}')
    expect(await text(second)).toBe('refused {"roots":{"listChanged":true}}')
  })
})

describe('prompt arguments on the wire', () => {
  test('refuses unknown arguments and non-string values with -32602 naming them', async () => {
    await using server = startFeatureServer()
    const { response, sessionId } = await initialize(server.url)
    await response.text()
    const get = async (args: unknown) => {
      const answer = await mcp(server.url, sessionId, {
        method: 'POST',
        headers: { accept: 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'prompts/get',
          params: { name: 'test_prompt_with_arguments', arguments: args },
        }),
      })
      return answer.json()
    }
    const refused = (reason: string) => ({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: -32602,
        message: `Invalid params: arguments of prompt 'test_prompt_with_arguments': ${reason}`,
      },
    })
    expect(await get({ arg1: 'x', arg2: 'y', extra: 5 })).toEqual(
      refused("unknown argument 'extra'"),
    )
    expect(await get(JSON.parse('{"arg1":"x","arg2":"y","__proto__":{"polluted":true}}'))).toEqual(
      refused("unknown argument '__proto__'"),
    )
    expect(await get({ arg1: 'x', arg2: ['y'] })).toEqual(
      refused("argument 'arg2' must be a string"),
    )
    expect(await get({ arg1: 'x', arg2: 'y' })).toMatchObject({ id: 1, result: { messages: [{}] } })
  })
})

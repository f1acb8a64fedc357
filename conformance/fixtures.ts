import { Type } from '@sinclair/typebox'
import type { SluiceServer } from '../server/server.ts'
import { sleep } from '../server/tools/builtin.ts'
import { registerModernConformanceFixtures } from './fixtures-modern.ts'
import { registerRoundTripConformanceFixtures } from './fixtures-round-trip.ts'

// A 1x1 red PNG and a minimal silent WAV: the smallest valid payloads for the content tests.
const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=='
const SILENT_WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA='
const NO_ARGS = Type.Object({})

/**
 * The fixture tools, resources and prompts the official conformance suite
 * (`@modelcontextprotocol/conformance`) calls by name; registered by `--profile conformance`.
 */
export function registerConformanceFixtures(server: SluiceServer): void {
  registerTools(server)
  registerInputTools(server)
  registerResources(server)
  registerPrompts(server)
  registerModernConformanceFixtures(server)
  registerRoundTripConformanceFixtures(server)
}

function registerTools(server: SluiceServer): void {
  server
    .tool('test_simple_text', { description: 'Returns simple text.', input: NO_ARGS }, () => ({
      content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
    }))
    .tool('test_image_content', { description: 'Returns an image.', input: NO_ARGS }, () => ({
      content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }],
    }))
    .tool('test_audio_content', { description: 'Returns audio.', input: NO_ARGS }, () => ({
      content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }],
    }))
    .tool(
      'test_embedded_resource',
      { description: 'Returns an embedded resource.', input: NO_ARGS },
      () => ({
        content: [
          {
            type: 'resource',
            resource: {
              uri: 'test://embedded-resource',
              mimeType: 'text/plain',
              text: 'This is an embedded resource content.',
            },
          },
        ],
      }),
    )
    .tool(
      'test_multiple_content_types',
      { description: 'Returns mixed content.', input: NO_ARGS },
      () => ({
        content: [
          { type: 'text', text: 'Multiple content types test:' },
          { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: {
              uri: 'test://mixed-content-resource',
              mimeType: 'application/json',
              text: '{"test":"data","value":123}',
            },
          },
        ],
      }),
    )
    .tool(
      'test_tool_with_progress',
      { description: 'Reports progress.', input: NO_ARGS },
      async (_args, ctx) => {
        ctx.progress(0, 100)
        await sleep(50, ctx.signal)
        ctx.progress(50, 100)
        await sleep(50, ctx.signal)
        ctx.progress(100, 100)
        return 'Progress test completed'
      },
    )
    .tool('test_error_handling', { description: 'Always fails.', input: NO_ARGS }, () => ({
      isError: true,
      content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
    }))
    .tool(
      'test_tool_with_logging',
      { description: 'Logs three messages while it runs.', input: NO_ARGS },
      async (_args, ctx) => {
        ctx.log('info', 'Tool execution started')
        await sleep(50, ctx.signal)
        ctx.log('info', 'Tool processing data')
        await sleep(50, ctx.signal)
        ctx.log('info', 'Tool execution completed')
        return 'Logging test completed'
      },
    )
    .tool(
      'json_schema_2020_12_tool',
      {
        description: 'Tool with JSON Schema 2020-12 features',
        input: Type.Object(
          {
            name: Type.Optional(Type.String()),
            address: Type.Optional(Type.Any({ $ref: '#/$defs/address' })),
          },
          {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            $defs: {
              address: {
                type: 'object',
                properties: { street: { type: 'string' }, city: { type: 'string' } },
              },
            },
            additionalProperties: false,
          },
        ),
      },
      (args) => `Received: ${JSON.stringify(args)}`,
    )
    .tool(
      'test_reconnection',
      {
        description:
          'Closes its SSE stream mid-call; the result waits for the reconnect (SEP-1699).',
        input: NO_ARGS,
      },
      async (_args, ctx) => {
        await sleep(50, ctx.signal)
        ctx.closeStream()
        await sleep(100, ctx.signal)
        return 'Reconnection test completed'
      },
    )
}

/** Tools that ask the client: elicitation and sampling. */
function registerInputTools(server: SluiceServer): void {
  server
    .tool(
      'test_sampling',
      {
        description: 'Asks the client for a completion.',
        input: Type.Object({ prompt: Type.String() }),
      },
      async ({ prompt }, ctx) => {
        const result = await ctx.sample({
          messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
          maxTokens: 100,
        })
        const content = result.content as { type?: string; text?: string }
        return `LLM response: ${content.type === 'text' ? content.text : JSON.stringify(content)}`
      },
    )
    .tool(
      'test_elicitation',
      { description: 'Asks the user for details.', input: Type.Object({ message: Type.String() }) },
      async ({ message }, ctx) => {
        const result = await ctx.elicit({
          message,
          requestedSchema: {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
        })
        return `User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`
      },
    )
    .tool(
      'test_elicitation_sep1034_defaults',
      { description: 'Elicitation with defaults (SEP-1034).', input: NO_ARGS },
      async (_args, ctx) => {
        const result = await ctx.elicit({
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: {
                type: 'string',
                description: 'User status',
                enum: ['active', 'inactive', 'pending'],
                default: 'active',
              },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
          },
        })
        return elicitationSummary(result)
      },
    )
    .tool(
      'test_elicitation_sep1330_enums',
      { description: 'Elicitation with every enum shape (SEP-1330).', input: NO_ARGS },
      async (_args, ctx) => {
        const result = await ctx.elicit({
          message: 'Please select options from the enum fields',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: {
                type: 'string',
                description: 'Select one option',
                enum: ['option1', 'option2', 'option3'],
              },
              titledSingle: {
                type: 'string',
                description: 'Select one option with titles',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                description: 'Select one option (legacy)',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                description: 'Select multiple options',
                minItems: 1,
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                description: 'Select multiple options with titles',
                minItems: 1,
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
          },
        })
        return elicitationSummary(result)
      },
    )
}

function elicitationSummary(result: { action: string; content?: unknown }): string {
  return `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`
}

function registerResources(server: SluiceServer): void {
  server
    .resource(
      'test://static-text',
      { name: 'static-text', description: 'A static text resource', mimeType: 'text/plain' },
      () => 'This is the content of the static text resource.',
    )
    .resource(
      'test://static-binary',
      { name: 'static-binary', description: 'A static binary resource', mimeType: 'image/png' },
      () => Buffer.from(RED_PIXEL_PNG, 'base64'),
    )
    .resource(
      'test://watched-resource',
      {
        name: 'watched-resource',
        description: 'A resource to subscribe to',
        mimeType: 'text/plain',
      },
      () => 'Watched resource content',
    )
    .resourceTemplate(
      'test://template/{id}/data',
      {
        name: 'template-data',
        description: 'Data by id',
        mimeType: 'application/json',
        complete: { id: (value) => ['123', '456', '789'].filter((id) => id.startsWith(value)) },
      },
      (_uri, vars) => {
        const id = vars.get('id') ?? ''
        return JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` })
      },
    )
}

function registerPrompts(server: SluiceServer): void {
  server
    .prompt('test_simple_prompt', { description: 'A simple prompt without arguments' }, () => ({
      messages: [
        { role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } },
      ],
    }))
    .prompt(
      'test_prompt_with_arguments',
      {
        description: 'A prompt with arguments',
        args: Type.Object({
          arg1: Type.String({ description: 'First test argument' }),
          arg2: Type.String({ description: 'Second test argument' }),
        }),
        complete: {
          arg1: (value) => ['paris', 'park', 'party'].filter((v) => v.startsWith(value)),
        },
      },
      ({ arg1, arg2 }) => `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`,
    )
    .prompt(
      'test_prompt_with_embedded_resource',
      {
        description: 'A prompt with an embedded resource',
        args: Type.Object({
          resourceUri: Type.String({ description: 'URI of the resource to embed' }),
        }),
      },
      ({ resourceUri }) => ({
        messages: [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: {
                uri: resourceUri,
                mimeType: 'text/plain',
                text: 'Embedded resource content for testing.',
              },
            },
          },
          {
            role: 'user',
            content: { type: 'text', text: 'Please process the embedded resource above.' },
          },
        ],
      }),
    )
    .prompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }))
}

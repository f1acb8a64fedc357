import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Type } from '@sinclair/typebox'
import type { SluiceServer } from '../server/server.ts'
import { readMetric, startServer } from './helpers.ts'

export type Transport = 'legacy' | 'streamable'
export const TRANSPORTS: Transport[] = ['legacy', 'streamable']
export const ALL_CAPABILITIES = { elicitation: {}, sampling: {}, roots: { listChanged: true } }

export interface Connected {
  client: Client
  /** Ends the session from the client's side: the stream goes (legacy) or DELETE (Streamable). */
  disconnect(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** The official SDK client on either transport, declaring `capabilities`. */
export async function connect(
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
export function startFeatureServer(overrides: Parameters<typeof startServer>[0] = {}) {
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
    .tool(
      'ask_url',
      { description: 'URL-mode elicitation.', input: Type.Object({}) },
      async (_a, ctx) => {
        const result = await ctx.elicit({
          mode: 'url',
          message: 'Sign in',
          url: 'https://login.invalid/',
          elicitationId: 'e1',
        })
        return result.action
      },
    )
  return server
}

/** Input requests waiting for a client, from /metrics. */
export const pending = (server: SluiceServer) =>
  readMetric(server.url, 'sluice_input_requests_pending')

import { describe, expect, test } from 'bun:test'
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Type } from '@sinclair/typebox'
import { readMetric, startServer, waitFor } from './helpers.ts'

type Mode = 'auto' | { pin: string }

/** The official SDK v2 client over Streamable HTTP, in the given version negotiation mode. */
async function connectV2(base: URL, mode: Mode): Promise<ClientV2 & AsyncDisposable> {
  const client = new ClientV2(
    { name: 'sluice-test-v2', version: '2.0.0' },
    { versionNegotiation: { mode } },
  )
  await client.connect(new TransportV2(new URL('/mcp', base)))
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() })
}

const MODES: Array<[string, Mode]> = [
  ['pinned to 2026-07-28', { pin: '2026-07-28' }],
  ['in auto mode', 'auto'],
]

describe.each(MODES)('the SDK v2 client %s', (_name, mode) => {
  test('speaks 2026-07-28: discover, tools/list and tools/call without a session', async () => {
    await using server = startServer()
    await using client = await connectV2(server.url, mode)
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
    expect(client.getServerVersion()).toEqual({ name: 'sluice', version: '0.1.0' })
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toEqual(['echo', 'add', 'sleep'])
    const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })
    expect(result.content).toEqual([{ type: 'text', text: '5' }])
    expect(server.sessions.size).toBe(0)
  })

  test('gets progress on the per-request stream before the result', async () => {
    await using server = startServer({ profile: 'conformance' })
    await using client = await connectV2(server.url, mode)
    const seen: number[] = []
    const result = await client.callTool(
      { name: 'test_tool_with_progress', arguments: {} },
      { onprogress: (p) => seen.push(p.progress) },
    )
    expect(seen).toEqual([0, 50, 100])
    expect(result.content).toEqual([{ type: 'text', text: 'Progress test completed' }])
  })

  test('aborting a call closes its stream, and the server cancels the call', async () => {
    await using server = startServer()
    await using client = await connectV2(server.url, mode)
    const cancelled = 'sluice_tool_calls_total{outcome="cancelled",tool="sleep"}'
    const abort = new AbortController()
    const call = client.callTool(
      { name: 'sleep', arguments: { seconds: 30 } },
      { signal: abort.signal, onprogress: () => {} },
    )
    await waitFor('the call to be in flight', () => server.requests.pendingCalls() === 1)
    abort.abort()
    await expect(call).rejects.toThrow()
    await waitFor(
      'the cancellation',
      async () => (await readMetric(server.url, cancelled).catch(() => 0)) === 1,
    )
    expect(server.requests.inFlight).toBe(0)
    expect(server.sessions.budget.usedBytes).toBe(0)
  })

  test('a listen stream receives tools/list_changed when a tool is added at run time', async () => {
    await using server = startServer()
    await using client = await connectV2(server.url, mode)
    const changed = Promise.withResolvers<void>()
    client.setNotificationHandler('notifications/tools/list_changed', () => changed.resolve())
    const subscription = await client.listen({ toolsListChanged: true })
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true })
    expect(server.requests.subscriptionsOpen).toBe(1)
    server.tool('late', { description: 'Added later.', input: Type.Object({}) }, () => 'late')
    await changed.promise
    await subscription.close()
    await waitFor('the listen stream to be released', () => server.requests.subscriptionsOpen === 0)
  })
})

describe('the SDK v1 client beside them', () => {
  test('keeps its 2025-11-25 session on the same endpoint', async () => {
    await using server = startServer()
    const client = new ClientV1({ name: 'sluice-test-v1', version: '1.0.0' })
    await client.connect(new TransportV1(new URL('/mcp', server.url)))
    try {
      expect(client.getServerVersion()?.name).toBe('sluice')
      expect(server.sessions.size).toBe(1)
      const result = await client.callTool({ name: 'echo', arguments: { message: 'old' } })
      expect(result.content).toEqual([{ type: 'text', text: 'old' }])
      expect(server.requests.inFlight).toBe(0)
    } finally {
      await client.close()
    }
  })
})

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { openClient, type TransportKind } from '../bench/rpc-client.ts'
import { modernRequest } from '../loadtest/modern-client.ts'
import { spawnServer, type Target } from '../loadtest/target.ts'
import { startServer } from './helpers.ts'

// The bench's raw peers must speak the wire sluice speaks, or its ratios compare different work.
const peer = (file: string, mode?: string) =>
  spawnServer(
    new URL(`../bench/peers/${file}`, import.meta.url).pathname,
    mode ? ['--response-mode', mode] : [],
  )

const started: Target[] = []
async function start(file: string, mode?: string): Promise<URL> {
  const target = await peer(file, mode)
  started.push(target)
  return target.base
}
afterAll(() => Promise.all(started.map((t) => t.stop())))

const MESSAGE = { name: 'echo', arguments: { message: 'hi' } }
const sameServerInfo = (body: string) =>
  body.replace('"name":"raw-bun","version":"1.0.0"', '"name":"sluice","version":"0.1.0"')

/** initialize, initialized, then one tools/call: the call's reply as the wire carries it. */
async function streamableCall(base: URL): Promise<{ type: string | null; body: string }> {
  const url = new URL('/mcp', base)
  const headers = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  }
  const post = (extra: Record<string, string>, body: unknown) =>
    fetch(url, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) })
  const init = await post(
    {},
    {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 't', version: '1' },
      },
    },
  )
  await init.text()
  const session = {
    'mcp-session-id': init.headers.get('mcp-session-id') ?? '',
    'mcp-protocol-version': '2025-11-25',
  }
  expect(
    (await post(session, { jsonrpc: '2.0', method: 'notifications/initialized' })).status,
  ).toBe(202)
  const reply = await post(session, {
    jsonrpc: '2.0',
    id: 5,
    method: 'tools/call',
    params: MESSAGE,
  })
  return { type: reply.headers.get('content-type'), body: await reply.text() }
}

async function modernCall(
  base: URL,
  method: string,
  params: Record<string, unknown>,
  accept?: string,
) {
  const { headers, body } = modernRequest(7, method, params, accept)
  const reply = await fetch(new URL('/mcp', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
  if (method !== 'subscriptions/listen')
    return { type: reply.headers.get('content-type'), body: await reply.text() }
  const first = await reply.body!.getReader().read()
  await reply.body!.cancel().catch(() => {})
  return { type: reply.headers.get('content-type'), body: new TextDecoder().decode(first.value) }
}

describe('raw Streamable HTTP 2025 peer', () => {
  let sse: URL
  let json: URL
  beforeAll(async () => {
    ;[sse, json] = await Promise.all([
      start('raw-streamable.ts', 'sse'),
      start('raw-streamable.ts', 'json'),
    ])
  })

  test('answers tools/call with the bytes sluice sends, as SSE and as JSON', async () => {
    await using server = startServer()
    await using preferJson = startServer({ preferJson: true })
    expect(await streamableCall(sse)).toEqual(await streamableCall(server.url))
    expect(await streamableCall(json)).toEqual(await streamableCall(preferJson.url))
  }, 20_000)

  test('serves the SDK v1 client and the bench client, and answers an unknown session 404', async () => {
    const client = new ClientV1({ name: 'bench-test', version: '1.0.0' })
    await client.connect(new TransportV1(new URL('/mcp', sse)))
    expect(await client.callTool(MESSAGE)).toEqual({ content: [{ type: 'text', text: 'hi' }] })
    await client.close()
    for (const base of [sse, json]) {
      const bench = await openClient('streamable', base)
      expect(await bench.call('echo', { message: 'hi' })).toBeGreaterThan(0)
      bench.close()
    }
    const unknown = await fetch(new URL('/mcp', sse), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-session-id': 'gone' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: MESSAGE }),
    })
    expect(unknown.status).toBe(404)
  }, 20_000)
})

describe('raw 2026-07-28 peer', () => {
  let json: URL
  let sse: URL
  beforeAll(async () => {
    ;[json, sse] = await Promise.all([
      start('raw-modern.ts', 'json'),
      start('raw-modern.ts', 'sse'),
    ])
  })

  test('answers tools/call and subscriptions/listen with the bytes sluice sends', async () => {
    await using server = startServer()
    await using sseServer = startServer({ responseMode: 'sse' })
    const listen = { notifications: { toolsListChanged: true } }
    const raw = async (base: URL) => {
      const reply = await modernCall(base, 'tools/call', MESSAGE)
      return { ...reply, body: sameServerInfo(reply.body) }
    }
    expect(await raw(json)).toEqual(await modernCall(server.url, 'tools/call', MESSAGE))
    expect(await raw(sse)).toEqual(await modernCall(sseServer.url, 'tools/call', MESSAGE))
    expect(await modernCall(json, 'subscriptions/listen', listen, 'text/event-stream')).toEqual(
      await modernCall(server.url, 'subscriptions/listen', listen, 'text/event-stream'),
    )
  }, 20_000)

  test('serves the SDK v2 client pinned to 2026-07-28, and the bench client', async () => {
    const client = new ClientV2(
      { name: 'bench-test', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    )
    await client.connect(new TransportV2(new URL('/mcp', json)))
    expect((await client.callTool(MESSAGE)).content).toEqual([{ type: 'text', text: 'hi' }])
    const subscription = await client.listen({ toolsListChanged: true })
    expect(subscription.honoredFilter).toEqual({ toolsListChanged: true })
    await subscription.close()
    await client.close()
    const bench = await openClient('modern', sse)
    expect(await bench.call('echo', { message: 'hi' })).toBeGreaterThan(0)
  }, 20_000)
})

test('the raw legacy peer serves the SDK v1 SSE client', async () => {
  const base = await start('raw-legacy.ts')
  const client = new ClientV1({ name: 'bench-test', version: '1.0.0' })
  await client.connect(new SSEClientTransport(new URL('/sse', base)))
  expect(await client.callTool(MESSAGE)).toEqual({ content: [{ type: 'text', text: 'hi' }] })
  await client.close()
  const kind: TransportKind = 'sse'
  const bench = await openClient(kind, base)
  expect(await bench.call('echo', { message: 'hi' })).toBeGreaterThan(0)
  bench.close()
}, 20_000)

import { afterEach, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { Type } from '@sinclair/typebox'
import type { Config } from '../../server/config.ts'
import { SseReader } from '../helpers.ts'
import { initialize, mcp, sleepOnStream } from '../streamable-helpers.ts'
import { fetchVia, startCluster, type TestCluster, waitFor } from './cluster-helpers.ts'

let cluster: TestCluster | undefined

afterEach(async () => {
  await cluster?.[Symbol.asyncDispose]()
  cluster = undefined
})

async function twoInstances(overrides: Partial<Config> = {}) {
  cluster = await startCluster(2, overrides)
  const [a, b] = cluster.instances
  if (!a || !b) throw new Error('two instances expected')
  return { a, b }
}

/** The SDK v1 client: initialize on `home`, everything after it through `via`. */
async function connectAcross(home: URL, via: URL) {
  let initialized = false
  const balancer = (input: string | URL | Request, init?: RequestInit) =>
    initialized ? fetchVia(via)(input, init) : fetch(input, init)
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', home), {
    fetch: balancer as typeof fetch,
  })
  const client = new Client({ name: 'cluster-state', version: '1.0.0' })
  await client.connect(transport)
  initialized = true
  return { client, transport }
}

describe('a session served through another instance keeps its state on its home', () => {
  test("a message on the session's standalone stream reaches the client reading it through B", async () => {
    const { a, b } = await twoInstances()
    const { client } = await connectAcross(a.url, b.url)
    try {
      const changed = Promise.withResolvers<void>()
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed.resolve())
      // The SDK opens its standalone GET stream after initialize: through B, relayed to A.
      await waitFor('the standalone stream to open on A', () => a.sessions.streamsOpen === 1)
      a.tool('late', { description: 'Added on A.', input: Type.Object({}) }, () => 'late')
      await changed.promise
    } finally {
      await client.close()
    }
  })

  test('cancelling a call sent through B cancels it on A', async () => {
    const { a, b } = await twoInstances()
    const { client } = await connectAcross(a.url, b.url)
    try {
      const controller = new AbortController()
      const call = client.callTool({ name: 'sleep', arguments: { seconds: 30 } }, undefined, {
        signal: controller.signal,
      })
      await waitFor('the call to run on A', () => a.sessions.pendingCalls() === 1)
      controller.abort()
      await expect(call).rejects.toThrow()
      await waitFor('the call to end on A', () => a.sessions.pendingCalls() === 0)
      expect(a.metrics.toolCalls.get({ tool: 'sleep', outcome: 'cancelled' })).toBe(1)
    } finally {
      await client.close()
    }
  })

  test('a client leaving B ends its stream on A; a GET with Last-Event-ID on B replays from A', async () => {
    const { a, b } = await twoInstances()
    const { sessionId } = await initialize(a.url)
    const { controller, post } = await sleepOnStream(b.url, sessionId, 0.2, 'r')
    const reader = new SseReader(post)
    const priming = await reader.next()
    const session = a.sessions.get(sessionId)
    await waitFor('the result to be handed over on A', () => session?.isRouted('r') === false)
    controller.abort()
    await waitFor('the stream on A to close', () => a.sessions.streamsOpen === 0)
    const resumed = await mcp(b.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': priming?.id ?? '' },
    })
    expect(resumed.status).toBe(200)
    expect(JSON.parse((await new SseReader(resumed).nextEvent())?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 'r',
      result: { content: [{ type: 'text', text: 'slept 0.2s' }] },
    })
  })

  test("another token's session answers 404 on both instances, as on one", async () => {
    const { a, b } = await twoInstances({ authTokens: ['alice', 'bob'] })
    const { sessionId } = await initialize(a.url, '2025-11-25', { authorization: 'Bearer alice' })
    expect(sessionId).not.toBe('')
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })
    for (const base of [a.url, b.url]) {
      const asBob = await mcp(base, sessionId, {
        method: 'POST',
        headers: { authorization: 'Bearer bob', accept: 'application/json' },
        body: ping,
      })
      expect(asBob.status).toBe(404)
    }
    const asAlice = await mcp(b.url, sessionId, {
      method: 'POST',
      headers: { authorization: 'Bearer alice', accept: 'application/json' },
      body: ping,
    })
    expect(await asAlice.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} })
  })
})

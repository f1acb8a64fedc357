import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { SseReader } from '../helpers.ts'
import { fetchVia, startCluster, type TestCluster } from './cluster-helpers.ts'

let cluster: TestCluster

beforeEach(async () => {
  cluster = await startCluster(2)
})
afterEach(async () => {
  await cluster[Symbol.asyncDispose]()
})

const urls = () => cluster.instances.map((s) => s.url) as [URL, URL]

function postMessage(base: URL, endpoint: string, message: unknown): Promise<Response> {
  return fetch(new URL(endpoint, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  })
}

describe('legacy HTTP+SSE across two instances', () => {
  test('stream on A, POSTs on B: every response arrives on A in order', async () => {
    const [a, b] = urls()
    const controller = new AbortController()
    const reader = new SseReader(await fetch(new URL('/sse', a), { signal: controller.signal }))
    const endpoint = (await reader.next())?.data ?? ''
    expect(endpoint).toStartWith('/message?sessionId=')
    const initialize = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2024-11-05',
        capabilities: {},
        clientInfo: { name: 't', version: '1' },
      },
    }
    expect((await postMessage(b, endpoint, initialize)).status).toBe(202)
    expect(JSON.parse((await reader.next())?.data ?? '').id).toBe(0)
    await postMessage(b, endpoint, { jsonrpc: '2.0', method: 'notifications/initialized' })
    const count = 20
    for (let id = 1; id <= count; id++) {
      const response = await postMessage(b, endpoint, {
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { message: `m${id}` } },
      })
      expect(response.status).toBe(202)
    }
    const seen: unknown[] = []
    while (seen.length < count) {
      const frame = await reader.next()
      if (frame?.event === 'message') seen.push(JSON.parse(frame.data ?? ''))
    }
    expect(seen).toEqual(
      Array.from({ length: count }, (_, i) => ({
        jsonrpc: '2.0',
        id: i + 1,
        result: { content: [{ type: 'text', text: `m${i + 1}` }] },
      })),
    )
    expect(cluster.instances[1]?.sessions.size).toBe(0)
    controller.abort()
  })

  test('the SDK client keeps its stream on A and posts through B', async () => {
    const [a, b] = urls()
    const balancer = (input: string | URL | Request, init?: RequestInit) =>
      (init?.method ?? 'GET') === 'POST' ? fetchVia(b)(input, init) : fetch(input, init)
    const client = new Client({ name: 'cluster-legacy', version: '1.0.0' })
    await client.connect(
      new SSEClientTransport(new URL('/sse', a), { fetch: balancer as typeof fetch }),
    )
    try {
      expect(cluster.instances[0]?.sessions.size).toBe(1)
      const results = await Promise.all(
        [1, 2, 3].map((n) => client.callTool({ name: 'add', arguments: { a: n, b: n } })),
      )
      expect(results.map((r) => r.content)).toEqual([
        [{ type: 'text', text: '2' }],
        [{ type: 'text', text: '4' }],
        [{ type: 'text', text: '6' }],
      ])
      // initialize, notifications/initialized and the three calls all went through B's relay.
      const relayed = /^sluice_relays_total (\d+)$/m.exec(
        cluster.instances[1]?.metrics.registry.render() ?? '',
      )
      expect(Number(relayed?.[1])).toBe(5)
    } finally {
      await client.close()
    }
  })

  test('a legacy session id unknown to the cluster answers 404 on both instances', async () => {
    for (const base of urls()) {
      const response = await postMessage(base, '/message?sessionId=nobody', {
        jsonrpc: '2.0',
        id: 1,
        method: 'ping',
      })
      expect(response.status).toBe(404)
    }
  })
})

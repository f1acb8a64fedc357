import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { initialize, mcp } from '../streamable-helpers.ts'
import { fetchVia, startCluster, type TestCluster } from './cluster-helpers.ts'

let cluster: TestCluster

beforeEach(async () => {
  cluster = await startCluster(2)
})
afterEach(async () => {
  await cluster[Symbol.asyncDispose]()
})

const urls = () => cluster.instances.map((s) => s.url) as [URL, URL]

describe('Streamable HTTP across two instances', () => {
  test('a session initialized on A serves tools/call posted to B', async () => {
    const [a, b] = urls()
    const { sessionId } = await initialize(a)
    expect(cluster.instances[0]?.sessions.get(sessionId)).toBeDefined()
    const response = await mcp(b, sessionId, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'add', arguments: { a: 2, b: 3 } },
      }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: '5' }] },
    })
    expect(cluster.instances[1]?.sessions.size).toBe(0)
  })

  test('the SDK client initializes on A and calls, lists and deletes through B', async () => {
    const [a, b] = urls()
    // Every request after initialize goes to B, as a load balancer without affinity might send it.
    let initialized = false
    const balancer = (input: string | URL | Request, init?: RequestInit) =>
      initialized ? fetchVia(b)(input, init) : fetch(input, init)
    const transport = new StreamableHTTPClientTransport(new URL('/mcp', a), {
      fetch: balancer as typeof fetch,
    })
    const client = new Client({ name: 'cluster-test', version: '1.0.0' })
    await client.connect(transport)
    initialized = true
    const sessionId = transport.sessionId ?? ''
    expect(cluster.instances[0]?.sessions.get(sessionId)).toBeDefined()
    const tools = await client.listTools()
    expect(tools.tools.map((t) => t.name)).toContain('echo')
    const result = await client.callTool({ name: 'echo', arguments: { message: 'via B' } })
    expect(result).toEqual({ content: [{ type: 'text', text: 'via B' }] })
    await transport.terminateSession()
    expect(cluster.instances[0]?.sessions.get(sessionId)).toBeUndefined()
    await client.close()
  })

  test('a session id unknown to the cluster answers 404 on both instances', async () => {
    for (const base of urls()) {
      const response = await mcp(base, 'no-such-session', {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      })
      expect(response.status).toBe(404)
      expect(await response.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32000,
          message: 'Not Found: session no-such-session does not exist or has expired',
        },
      })
    }
  })
})

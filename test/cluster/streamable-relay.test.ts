import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import Redis from 'ioredis'
import { createServer } from '../../server/index.ts'
import { silentLogger } from '../../server/observability/log.ts'
import { startServer } from '../helpers.ts'
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

describe('leaving the cluster', () => {
  test('an instance that stops removes its records: its sessions answer 404 on B without a relay', async () => {
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const redis = new Redis(cluster.redis.url)
    try {
      // A's heartbeat key: its instance id and a suffix of this process's own.
      const heartbeatOfA = `sluice:instance:${a.instanceId}/*`
      expect(await redis.exists(`sluice:session:${sessionId}`)).toBe(1)
      expect(await redis.keys(heartbeatOfA)).toHaveLength(1)
      await a.stop()
      expect(await redis.exists(`sluice:session:${sessionId}`)).toBe(0)
      expect(await redis.keys(heartbeatOfA)).toHaveLength(0)
    } finally {
      redis.disconnect()
    }
    const response = await mcp(b.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    expect(response.status).toBe(404)
    const text = b.metrics.registry.render()
    expect(text).toContain('sluice_relays_total 0')
    expect(text).toContain('sluice_relays_lost_total 0')
  })
})

describe('instance identity', () => {
  test('createServer({ redisUrl }) joins the cluster', async () => {
    await using joined = createServer({
      name: 'app',
      version: '1.0.0',
      port: 0,
      demoTools: true,
      logger: silentLogger,
      redisUrl: cluster.redis.url,
    })
    const { url } = await joined.listen()
    await joined.clusterReady()
    const { sessionId } = await initialize(url)
    const response = await mcp(urls()[0], sessionId, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }),
    })
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 3, result: {} })
  })

  test('/health names the instance; --instance-id sets it', async () => {
    const [a, b] = cluster.instances
    const health = async (base: URL) =>
      ((await (await fetch(new URL('/health', base))).json()) as { instance: string }).instance
    expect(await health(urls()[0])).toBe(a?.instanceId ?? '')
    expect(a?.instanceId).not.toBe(b?.instanceId)
    await using named = startServer({ instanceId: 'edge-1' })
    expect(await health(named.url)).toBe('edge-1')
  })
})

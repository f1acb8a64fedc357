import { afterEach, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Elysia } from 'elysia'
import { spawnServer, type Target } from '../loadtest/target.ts'
import { createServer, type Sluice, Type } from '../server/index.ts'
import { silentLogger } from '../server/observability/log.ts'

const DOUBLE_TOOLS = new URL('./fixtures/double-tools.ts', import.meta.url).pathname
const SERVER_MAIN = new URL('../server/main.ts', import.meta.url).pathname

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The official SDK client over Streamable HTTP; closed after the test. */
async function connect(mcpUrl: URL): Promise<Client> {
  const client = new Client({ name: 'package-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(mcpUrl))
  cleanups.push(() => client.close())
  return client
}

function app(): Sluice {
  const server = createServer({ name: 'app', version: '1.0.0', port: 0, logger: silentLogger })
  cleanups.push(() => server.stop())
  return server.tool(
    'double',
    { description: 'Doubles n', input: Type.Object({ n: Type.Number() }) },
    ({ n }) => String(n * 2),
  )
}

const DOUBLED = { content: [{ type: 'text' as const, text: '42' }] }

describe('createServer', () => {
  test('listen() resolves to its url and port; the SDK client sees serverInfo and only its tools', async () => {
    const server = app()
    const { url, port } = await server.listen()
    expect(url.port).toBe(String(port))
    const client = await connect(new URL('/mcp', url))
    expect(client.getServerVersion()).toEqual({ name: 'app', version: '1.0.0' })
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['double'])
    expect(await client.callTool({ name: 'double', arguments: { n: 21 } })).toEqual(DOUBLED)
  })

  test('settings not given take their defaults; a bad one throws naming it', () => {
    const server = createServer({ name: 'a', version: '1', logger: silentLogger })
    cleanups.push(() => server.stop())
    expect(server.config.port).toBe(3000)
    expect(() => createServer({ name: 'a', version: '1', maxSessions: 0 })).toThrow(
      'Invalid configuration: --max-sessions (MAX_SESSIONS) must be an integer from 1 to 10000000',
    )
  })

  test('fetch mounts it in Bun.serve: Streamable HTTP and legacy SSE both answer', async () => {
    const server = app()
    using bun = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: server.fetch })
    const client = await connect(new URL('/mcp', bun.url))
    expect(await client.callTool({ name: 'double', arguments: { n: 21 } })).toEqual(DOUBLED)

    const legacy = new Client({ name: 'package-test', version: '1.0.0' })
    await legacy.connect(new SSEClientTransport(new URL('/sse', bun.url)))
    cleanups.push(() => legacy.close())
    expect(await legacy.callTool({ name: 'double', arguments: { n: 21 } })).toEqual(DOUBLED)
  })

  test('plugin() mounts the MCP routes in an Elysia app beside its own, with the same /metrics', async () => {
    const server = app()
    const web = new Elysia()
      .get('/', () => 'home')
      .use(server.plugin())
      .listen({ hostname: '127.0.0.1', port: 0 })
    cleanups.push(() => web.stop(true))
    const base = new URL(`http://127.0.0.1:${web.server?.port}`)
    expect(await (await fetch(base)).text()).toBe('home')
    const client = await connect(new URL('/mcp', base))
    expect(await client.callTool({ name: 'double', arguments: { n: 21 } })).toEqual(DOUBLED)
    const metrics = await (await fetch(new URL('/metrics', base))).text()
    expect(metrics).toContain('sluice_sessions_open 1')
    // The rebinding guard keeps to sluice's routes: the app's own answer whatever the Host.
    const foreign = { headers: { host: 'elsewhere.example' } }
    expect((await fetch(base, foreign)).status).toBe(200)
    expect((await fetch(new URL('/mcp', base), { ...foreign, method: 'POST' })).status).toBe(403)
  })
})

describe('sluice --tools', () => {
  let target: Target | undefined
  afterEach(async () => {
    await target?.stop()
    target = undefined
  })

  test("serves the module's tools, with --name/--version and without the demo tools", async () => {
    target = await spawnServer(SERVER_MAIN, [
      '--port',
      '0',
      '--tools',
      DOUBLE_TOOLS,
      '--no-demo-tools',
      '--name',
      'doubler',
      '--version',
      '2.0.0',
    ])
    const client = await connect(new URL('/mcp', target.base))
    expect(client.getServerVersion()).toEqual({ name: 'doubler', version: '2.0.0' })
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['double'])
    expect(await client.callTool({ name: 'double', arguments: { n: 21 } })).toEqual(DOUBLED)
  })

  test('a module without a default export function stops the server naming it, exit 2', () => {
    const child = Bun.spawnSync([
      process.execPath,
      SERVER_MAIN,
      '--port',
      '0',
      '--tools',
      SERVER_MAIN.replace('main.ts', 'config.ts'),
    ])
    expect(child.exitCode).toBe(2)
    expect(child.stderr.toString()).toContain('has no default export function')
  })
})

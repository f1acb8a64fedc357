// The official SDK v2's stateless handler (createMcpHandler) on Bun.serve: the server a user would
// pick instead of sluice in 2026. It serves 2026-07-28 and, by default, 2025 traffic statelessly.
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server'
import { z } from 'zod'

function createServer(): McpServer {
  const server = new McpServer({ name: 'sdk-v2-peer', version: '1.0.0' })
  server.registerTool(
    'echo',
    {
      description: 'Returns the message it is given.',
      inputSchema: z.object({ message: z.string() }),
    },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  )
  server.registerTool(
    'add',
    { description: 'Adds two numbers.', inputSchema: z.object({ a: z.number(), b: z.number() }) },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  )
  server.registerTool(
    'sleep',
    { description: 'Waits.', inputSchema: z.object({ seconds: z.number().min(0).max(60) }) },
    async ({ seconds }, ctx) => {
      const signal = (ctx as unknown as { mcpReq?: { signal?: AbortSignal } }).mcpReq?.signal
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, seconds * 1000)
        signal?.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(signal.reason)
        })
      })
      return { content: [{ type: 'text', text: `slept ${seconds}s` }] }
    },
  )
  return server
}

// `--response-mode json|sse|auto` shapes 2026-07-28 replies (default auto: JSON for echo). 2025
// requests are served statelessly by a fresh server each, answered as SSE.
const modeAt = process.argv.indexOf('--response-mode')
const responseMode = (modeAt >= 0 ? process.argv[modeAt + 1] : 'auto') as 'auto' | 'json' | 'sse'
const handler = createMcpHandler(() => createServer(), { responseMode })
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  // Listen streams are long-lived; Bun's idle timeout would cut them.
  idleTimeout: 0,
  fetch: (request) =>
    new URL(request.url).pathname === '/mcp'
      ? handler.fetch(request)
      : new Response('Not Found', { status: 404 }),
})
console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.port}/` }))
process.on('SIGTERM', () => {
  void server.stop(true).then(() => process.exit(0))
})

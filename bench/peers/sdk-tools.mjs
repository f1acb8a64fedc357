// The three bench tools (echo, add, sleep) on the official SDK's McpServer.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'

export function createSdkServer() {
  const server = new McpServer({ name: 'sdk-peer', version: '1.0.0' })
  server.registerTool(
    'echo',
    { description: 'Returns the message it is given.', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  )
  server.registerTool(
    'add',
    { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
  )
  server.registerTool(
    'sleep',
    { description: 'Waits.', inputSchema: { seconds: z.number().min(0).max(60) } },
    async ({ seconds }, { signal }) => {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, seconds * 1000)
        signal.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(signal.reason)
        })
      })
      return { content: [{ type: 'text', text: `slept ${seconds}s` }] }
    },
  )
  return server
}

/** Listens on 127.0.0.1 with an OS-picked port and prints the line the bench waits for. */
export function listen(app) {
  const httpServer = app.listen(0, '127.0.0.1', () => {
    const { port } = httpServer.address()
    console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${port}/` }))
  })
  process.on('SIGTERM', () => {
    httpServer.closeAllConnections()
    httpServer.close(() => process.exit(0))
  })
}

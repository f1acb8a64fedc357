/**
 * The practical ceiling: a minimal legacy-SSE MCP server on raw `Bun.serve`, with no validation,
 * no limits and a plain map of sessions. Not for use: it is what sluice's overhead is measured from.
 */
const encoder = new TextEncoder()
const sessions = new Map<string, ReadableStreamDefaultController<Uint8Array>>()
const tools = [
  { name: 'echo', description: 'echo', inputSchema: { type: 'object' } },
  { name: 'add', description: 'add', inputSchema: { type: 'object' } },
  { name: 'sleep', description: 'sleep', inputSchema: { type: 'object' } },
]

interface Message {
  id?: number | string
  method?: string
  params?: { name?: string; arguments?: Record<string, unknown>; protocolVersion?: string }
}

async function answer(message: Message): Promise<unknown> {
  switch (message.method) {
    case 'initialize':
      return {
        protocolVersion: message.params?.protocolVersion ?? '2024-11-05',
        capabilities: { tools: {} },
        serverInfo: { name: 'raw-bun', version: '1.0.0' },
      }
    case 'tools/list':
      return { tools }
    case 'tools/call': {
      const args = message.params?.arguments ?? {}
      if (message.params?.name === 'add')
        return { content: [{ type: 'text', text: String(Number(args.a) + Number(args.b)) }] }
      if (message.params?.name === 'sleep') {
        await Bun.sleep(Number(args.seconds) * 1000)
        return { content: [{ type: 'text', text: `slept ${args.seconds}s` }] }
      }
      return { content: [{ type: 'text', text: String(args.message) }] }
    }
    default:
      return {}
  }
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 0,
  async fetch(request) {
    const url = new URL(request.url)
    if (url.pathname === '/sse') {
      const id = crypto.randomUUID()
      return new Response(
        new ReadableStream<Uint8Array>({
          start(controller) {
            sessions.set(id, controller)
            controller.enqueue(
              encoder.encode(`event: endpoint\ndata: /message?sessionId=${id}\n\n`),
            )
          },
          cancel() {
            sessions.delete(id)
          },
        }),
        { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } },
      )
    }
    if (url.pathname === '/message') {
      const controller = sessions.get(url.searchParams.get('sessionId') ?? '')
      if (!controller) return new Response('no such session', { status: 404 })
      const message = (await request.json()) as Message
      if (message.id !== undefined) {
        void answer(message).then((result) => {
          const frame = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: message.id, result })}\n\n`
          try {
            controller.enqueue(encoder.encode(frame))
          } catch {
            // The stream has gone.
          }
        })
      }
      return new Response('Accepted', { status: 202 })
    }
    if (url.pathname === '/metrics') {
      return new Response(
        `sluice_sessions_open ${sessions.size}\nsluice_sse_streams_open ${sessions.size}\n`,
      )
    }
    return new Response('not found', { status: 404 })
  },
})

console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.port}/` }))
process.on('SIGTERM', () => {
  void server.stop(true)
  process.exit(0)
})

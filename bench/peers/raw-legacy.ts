/**
 * The raw peer of the legacy HTTP+SSE transport (MCP 2024-11-05) on `Bun.serve`: `GET /sse` holds
 * a stream (endpoint frame first, keepalive comments), `POST /message` is answered 202 and its
 * result goes out on that stream. A plain map of sessions; no validation, no limits.
 */
import { announce, callTool, encoder, HeldStreams, messageFrame, TOOLS } from './raw-common.ts'

const streams = new HeldStreams()
const sessions = new Map<string, ReadableStreamDefaultController<Uint8Array>>()

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
      return { tools: TOOLS }
    case 'tools/call':
      return callTool(message.params)
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
      return streams.open(
        encoder.encode(`event: endpoint\ndata: /message?sessionId=${id}\n\n`),
        (controller) => sessions.set(id, controller),
        () => sessions.delete(id),
      )
    }
    if (url.pathname === '/message') {
      const controller = sessions.get(url.searchParams.get('sessionId') ?? '')
      if (!controller) return new Response('no such session', { status: 404 })
      const message = (await request.json()) as Message
      if (message.id !== undefined) {
        void answer(message).then((result) =>
          HeldStreams.write(
            controller,
            messageFrame(JSON.stringify({ jsonrpc: '2.0', id: message.id, result })),
          ),
        )
      }
      return new Response('Accepted', { status: 202 })
    }
    if (url.pathname === '/metrics') {
      return new Response(
        `sluice_sessions_open ${sessions.size}\nsluice_sse_streams_open ${streams.size}\n`,
      )
    }
    return new Response('not found', { status: 404 })
  },
})

announce(server)

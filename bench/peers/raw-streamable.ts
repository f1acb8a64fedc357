/**
 * The raw peer of Streamable HTTP (MCP 2025-03-26 to 2025-11-25) on `Bun.serve`, with sessions:
 * `initialize` gives an `Mcp-Session-Id`, notifications get 202, a request is answered as one SSE
 * reply (priming event, then `event: message` with its id) or as JSON (`--response-mode json`),
 * `GET` holds the session's standalone stream with keepalive comments, `DELETE` ends the session,
 * an unknown session is 404. The same bytes sluice sends for these exchanges; no validation, no
 * limits, a plain map of sessions.
 */
import {
  announce,
  callTool,
  encoder,
  HeldStreams,
  JSON_HEADERS,
  messageFrame,
  responseModeArg,
  SSE_HEADERS,
  TOOLS,
} from './raw-common.ts'

interface Session {
  protocolVersion: string
  /** Streams opened so far; the standalone stream is stream 0, replies count from 1. */
  streams: number
  standalone: ReadableStreamDefaultController<Uint8Array> | undefined
}

interface Message {
  id?: number | string
  method?: string
  params?: { name?: string; arguments?: Record<string, unknown>; protocolVersion?: string }
}

const mode = responseModeArg()
const held = new HeldStreams()
const sessions = new Map<string, Session>()

/** 2025-11-25 streams start with a priming event (an id and `retry`, no data) for resumption. */
const primes = (version: string) => version >= '2025-11-25'

async function answer(message: Message, session: Session): Promise<unknown> {
  switch (message.method) {
    case 'initialize':
      return {
        protocolVersion: session.protocolVersion,
        capabilities: { tools: { listChanged: true } },
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

function reply(session: Session, json: string, headers: Record<string, string> = {}): Response {
  if (mode === 'json') return new Response(json, { headers: { ...JSON_HEADERS, ...headers } })
  const stream = ++session.streams
  const prime = primes(session.protocolVersion) ? `id: ${stream}_0\nretry: 1000\ndata: \n\n` : ''
  return new Response(`${prime}${messageFrame(json, `${stream}_1`)}`, {
    headers: { ...SSE_HEADERS, ...headers },
  })
}

function notFound(id: string): Response {
  const error = { code: -32000, message: `Not Found: session ${id} does not exist or has expired` }
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error }), {
    status: 404,
    headers: JSON_HEADERS,
  })
}

async function post(request: Request): Promise<Response> {
  const message = (await request.json()) as Message
  const sessionId = request.headers.get('mcp-session-id')
  if (sessionId === null && message.method === 'initialize') {
    const id = crypto.randomUUID()
    const session: Session = {
      protocolVersion: message.params?.protocolVersion ?? '2025-03-26',
      streams: 0,
      standalone: undefined,
    }
    sessions.set(id, session)
    const result = await answer(message, session)
    return reply(session, JSON.stringify({ jsonrpc: '2.0', id: message.id, result }), {
      'mcp-session-id': id,
    })
  }
  const session = sessions.get(sessionId ?? '')
  if (!session) return notFound(sessionId ?? '')
  if (message.id === undefined) return new Response(null, { status: 202 })
  const result = await answer(message, session)
  return reply(session, JSON.stringify({ jsonrpc: '2.0', id: message.id, result }))
}

function get(request: Request): Response {
  const sessionId = request.headers.get('mcp-session-id') ?? ''
  const session = sessions.get(sessionId)
  if (!session) return notFound(sessionId)
  const prime = primes(session.protocolVersion)
    ? 'id: 0_0\nretry: 1000\ndata: \n\n'
    : ': stream open\n\n'
  return held.open(
    encoder.encode(prime),
    (controller) => {
      session.standalone = controller
    },
    () => {
      session.standalone = undefined
    },
  )
}

function remove(request: Request): Response {
  const sessionId = request.headers.get('mcp-session-id') ?? ''
  const session = sessions.get(sessionId)
  if (!session) return notFound(sessionId)
  sessions.delete(sessionId)
  if (session.standalone) held.close(session.standalone)
  return new Response(null, { status: 200 })
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 0,
  fetch(request) {
    const { pathname } = new URL(request.url)
    if (pathname === '/mcp') {
      if (request.method === 'POST') return post(request)
      if (request.method === 'GET') return get(request)
      if (request.method === 'DELETE') return remove(request)
      return new Response(null, { status: 405, headers: { allow: 'GET, POST, DELETE' } })
    }
    if (pathname === '/metrics')
      return new Response(
        `sluice_sessions_open ${sessions.size}\nsluice_sse_streams_open ${held.size}\n`,
      )
    return new Response('not found', { status: 404 })
  },
})

announce(server)

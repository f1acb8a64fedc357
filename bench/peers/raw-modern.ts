/**
 * The raw peer of MCP 2026-07-28 (stateless, one POST per request) on `Bun.serve`: a request
 * carries `MCP-Protocol-Version: 2026-07-28` and the same version in `params._meta`; `tools/call`
 * is answered as JSON or (`--response-mode sse`) as an SSE stream of its own (open comment, then
 * the result); `server/discover` names the versions; `subscriptions/listen` holds a stream that
 * starts with its acknowledgement, then keepalive comments. The same bytes sluice sends for these
 * exchanges; no validation beyond the version, no limits.
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

const VERSION = '2026-07-28'
const META_VERSION = 'io.modelcontextprotocol/protocolVersion'
const SERVER_INFO = { 'io.modelcontextprotocol/serverInfo': { name: 'raw-bun', version: '1.0.0' } }
const CAPABILITIES = { tools: { listChanged: true } }
const OPEN_COMMENT = ': stream open\n\n'

interface Message {
  id?: number | string
  method?: string
  params?: {
    name?: string
    arguments?: Record<string, unknown>
    notifications?: Record<string, unknown>
    _meta?: Record<string, unknown>
  }
}

const mode = responseModeArg()
const held = new HeldStreams()

function error(id: Message['id'] | null, status: number, code: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }), {
    status,
    headers: JSON_HEADERS,
  })
}

async function answer(message: Message): Promise<Record<string, unknown> | undefined> {
  switch (message.method) {
    case 'tools/call':
      return callTool(message.params)
    case 'tools/list':
      return { tools: TOOLS }
    case 'server/discover':
      return { supportedVersions: [VERSION], capabilities: CAPABILITIES }
    default:
      return undefined
  }
}

/** The listen stream: the acknowledgement (tools list changes only) first, then keepalives. */
function listen(message: Message): Response {
  const agreed: Record<string, unknown> = {}
  if (message.params?.notifications?.toolsListChanged === true) agreed.toolsListChanged = true
  const ack = JSON.stringify({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: {
      _meta: { 'io.modelcontextprotocol/subscriptionId': message.id },
      notifications: agreed,
    },
  })
  return held.open(encoder.encode(messageFrame(ack)))
}

async function post(request: Request): Promise<Response> {
  const message = (await request.json()) as Message
  const version = request.headers.get('mcp-protocol-version')
  if (version !== VERSION || message.params?._meta?.[META_VERSION] !== version)
    return error(
      message.id ?? null,
      400,
      -32020,
      'Bad Request: MCP-Protocol-Version must match _meta',
    )
  if (message.id === undefined) return new Response(null, { status: 202 })
  if (message.method === 'subscriptions/listen') return listen(message)
  const result = await answer(message)
  if (!result) return error(message.id, 404, -32601, `Method not found: ${message.method}`)
  const json = JSON.stringify({
    jsonrpc: '2.0',
    id: message.id,
    result: { resultType: 'complete', ...result, _meta: SERVER_INFO },
  })
  if (mode === 'json') return new Response(json, { headers: JSON_HEADERS })
  return new Response(`${OPEN_COMMENT}${messageFrame(json)}`, { headers: SSE_HEADERS })
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 0,
  fetch(request) {
    const { pathname } = new URL(request.url)
    if (pathname === '/mcp') {
      if (request.method === 'POST') return post(request)
      return new Response(null, { status: 405, headers: { allow: 'POST' } })
    }
    if (pathname === '/metrics') return new Response(`sluice_subscriptions_open ${held.size}\n`)
    return new Response('not found', { status: 404 })
  },
})

announce(server)

import { Elysia } from 'elysia'
import type { BearerAuth } from '../transport/auth.ts'
import type { CorsPolicy } from '../transport/cors.ts'
import type { EraRouter } from '../transport/era-router.ts'
import type { LegacySseTransport, OpenStreamOptions } from '../transport/legacy-sse.ts'
import type { OriginGuard } from '../transport/origin-guard.ts'
import { SSE_HEADERS, SSE_RESPONSE_INIT } from '../transport/sse-frame.ts'
import type { StreamReply } from '../transport/stateless-http.ts'
import type {
  ConnectionControl,
  SseReply,
  StreamableHttpTransport,
} from '../transport/streamable-http.ts'
import {
  badRequest,
  TRANSPORT_ERROR_CODE,
  TransportError,
  toTransportError,
  transportErrorResponse,
} from '../transport/transport-error.ts'

export interface HttpRoutes {
  legacy: LegacySseTransport
  streamable: StreamableHttpTransport
  /** POST /mcp: chooses between the 2025 era (streamable) and the 2026-07-28 stateless era. */
  eras: EraRouter
  /** DNS-rebinding protection, checked on every route before anything else. */
  guard: OriginGuard
  auth: BearerAuth
  cors: CorsPolicy
  health: () => Record<string, unknown>
  metrics: () => string
  /**
   * A cluster's relay: answers a request for a session another instance holds (undefined: this
   * instance answers). Absent on a single instance, where no hook runs.
   */
  relay?: (request: Request, owner: string, keepOpen: () => void) => Promise<Response | undefined>
  /** Whether a request was relayed here by another instance (it passed that one's guard). */
  relayed?: (request: Request) => boolean
  /** Bun's server for a request that reached the app through `handle()`, not its own listener. */
  serverOf?: (request: Request) => Bun.Server<unknown> | undefined
  /**
   * Mounted as a plugin in someone else's Elysia app: the request hooks (rebinding guard, CORS),
   * which Elysia runs for every request of the parent, leave the parent's own routes alone.
   */
  ownPathsOnly?: boolean
}

/** Every path this app answers; the rest belong to a parent app when mounted as a plugin. */
const OWN_PATHS = new Set(['/health', '/metrics', '/sse', '/message', '/notifications', '/mcp'])

/** Seconds Bun waits on an evicted stream's silent socket before it drops it. */
const EVICTED_SOCKET_TIMEOUT_S = 1

type LegacyStream = Omit<OpenStreamOptions, 'connection'>
const SSE_ROUTE: LegacyStream = { postPath: '/message', sessionParam: 'sessionId', greet: false }
// The direct tool-call flow: /notifications opens a legacy session that greets its client, and
// POST /mcp?session_id=... feeds it; there a method naming a tool calls it, without initialize.
const DIRECT_CALL_ROUTE: LegacyStream = {
  postPath: '/mcp',
  sessionParam: 'session_id',
  greet: true,
}

interface RouteContext {
  request: Request
  server: Bun.Server<unknown> | null
  set: { headers: Record<string, unknown> }
}

/** The server a request's connection belongs to (none for a relayed request). */
type ServerOf = (
  request: Request,
  server: Bun.Server<unknown> | null,
) => Bun.Server<unknown> | undefined

/**
 * The connection a request came on, which the transport may cut. One object with a method, held
 * by a stream's reader for as long as the stream is open: no closure, and nothing of the route's
 * context but the request and its server.
 */
class RouteConnection implements ConnectionControl {
  constructor(
    private readonly request: Request,
    private readonly server: Bun.Server<unknown> | null,
    private readonly serverOf: ServerOf,
  ) {}

  drop(): void {
    this.serverOf(this.request, this.server)?.timeout(this.request, EVICTED_SOCKET_TIMEOUT_S)
  }
}

/** The Elysia app: routes and hooks only. Every decision is made by the transport it calls. */
export function createHttpApp(routes: HttpRoutes) {
  const owner = (request: Request): string => {
    const who = routes.auth.ownerOf(request)
    // The beforeHandle hook has already answered 401 for anything but a string.
    return typeof who === 'string' ? who : ''
  }
  const relayed = routes.relayed
  // A route without `server` (see POST /mcp) is served by our own listener, if any.
  const serverOfOwn: ServerOf = (request, server) =>
    server ?? app.server ?? routes.serverOf?.(request)
  // A relayed request has no connection here: its socket is the asking instance's.
  const serverOf = relayed
    ? (request: Request, server: Bun.Server<unknown> | null) =>
        relayed(request) ? undefined : serverOfOwn(request, server)
    : serverOfOwn
  const connectionOf = ({ request, server }: RouteContext): ConnectionControl =>
    new RouteConnection(request, server, serverOf)

  /** Turns a transport's stream into the SSE response (a Response passes through). */
  const sse = (ctx: RouteContext, reply: Response | SseReply | StreamReply | SseReply['body']) => {
    if (reply instanceof Response) return reply
    // Bun closes a connection idle for `idleTimeout` (10 s by default); a quiet SSE stream is
    // kept alive by our own keepalives and send deadline instead.
    serverOf(ctx.request, ctx.server)?.timeout(ctx.request, 0)
    // The generator is the body itself: Bun pulls it as the socket drains, with no wrapping
    // ReadableStream, abort listener and closures of Elysia's per stream. (Elysia still adds the
    // headers of its hooks, CORS, when there are any.)
    if ('body' in reply) {
      return new Response(
        reply.body,
        hasKeys(reply.headers)
          ? { headers: { ...SSE_HEADERS, ...reply.headers } }
          : SSE_RESPONSE_INIT,
      )
    }
    return new Response(reply, SSE_RESPONSE_INIT)
  }
  const openLegacy = (ctx: RouteContext, route: LegacyStream) =>
    sse(
      ctx,
      routes.legacy.open(owner(ctx.request), {
        ...route,
        connection: connectionOf(ctx),
      }),
    )

  /** POST /mcp: the direct tool-call flow when a session_id query names it, else an era's POST. */
  const postMcp = async (ctx: RouteContext) => {
    const { request } = ctx
    // Most POSTs carry no query: parse the URL only when there is one.
    const url = request.url.includes('?') ? new URL(request.url) : undefined
    if (url && (url.searchParams.has('session_id') || url.searchParams.has('sessionId'))) {
      // Which flow a request takes must not depend on which of two session ids wins.
      if (request.headers.has('mcp-session-id')) {
        return transportErrorResponse(
          badRequest('name the session in the Mcp-Session-Id header or the query, not both'),
        )
      }
      return routes.legacy.post(request, url, owner(request), { directToolCalls: true })
    }
    return sse(ctx, await routes.eras.post(request, owner(request), connectionOf(ctx)))
  }

  // One guard for every route, before any route creates anything.
  const notOurs = (request: Request) =>
    routes.ownPathsOnly === true && !OWN_PATHS.has(new URL(request.url).pathname)
  // A relayed request passed the rebinding guard and CORS of the instance it came to.
  const foreign = relayed ? (request: Request) => relayed(request) || notOurs(request) : notOurs
  const refusal = (request: Request): Response | undefined => {
    try {
      routes.guard.check(request)
      return undefined
    } catch (err) {
      return transportErrorResponse(toTransportError(err))
    }
  }
  // Elysia awaits a request hook whose source looks asynchronous to it (a call right after
  // `return` or `=>`, or the words for it anywhere): one more microtask for every request. The
  // hooks here are written so that it reads them as the synchronous functions they are.
  const app = new Elysia().onRequest(({ request }) => {
    let refused: Response | undefined
    if (!foreign(request)) refused = refusal(request)
    return refused
  })
  // The CORS and auth hooks run on every request; they are registered only when configured.
  if (routes.cors.enabled) {
    app.onRequest(({ request, set }) => {
      if (foreign(request)) return undefined
      const preflight = routes.cors.preflight(request)
      if (preflight) return preflight
      Object.assign(set.headers, routes.cors.headersFor(request))
      return undefined
    })
  }
  const routed = app
    .onError(({ code, request }) => {
      if (code !== 'NOT_FOUND') return transportErrorResponse(toTransportError(undefined))
      const path = new URL(request.url).pathname
      return transportErrorResponse(
        new TransportError(
          404,
          TRANSPORT_ERROR_CODE,
          `Not Found: no route for ${request.method} ${path}`,
        ),
      )
    })
    // Health stays open without a token (it comes before the auth hook), for load balancers.
    .get('/health', () => routes.health())
  if (routes.auth.enabled) {
    routed.onBeforeHandle(({ request }) => {
      const who = routes.auth.ownerOf(request)
      return who instanceof TransportError ? transportErrorResponse(who) : undefined
    })
  }
  const relay = routes.relay
  if (relay) {
    // After auth: a request is relayed with its credential, and only an authenticated one.
    // Destructured, not `ctx` whole: Elysia then builds only what the hook reads.
    routed.onBeforeHandle(({ request, server }) =>
      relay(request, owner(request), () => serverOf(request, server)?.timeout(request, 0)),
    )
  }
  return (
    routed
      .get(
        '/metrics',
        () =>
          new Response(routes.metrics(), {
            headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
          }),
      )
      // Legacy HTTP+SSE (2024-11-05).
      .get('/sse', ({ request, server, set }) => openLegacy({ request, server, set }, SSE_ROUTE))
      .post(
        '/message',
        ({ request }) =>
          routes.legacy.post(request, new URL(request.url), owner(request), {
            directToolCalls: false,
          }),
        { parse: 'none' },
      )
      .get('/notifications', ({ request, server, set }) =>
        openLegacy({ request, server, set }, DIRECT_CALL_ROUTE),
      )
      // Streamable HTTP (2025-03-26 to 2025-11-25) on /mcp; a session_id query is the direct tool-call flow.
      .post(
        '/mcp',
        // Destructured, not `ctx` whole: Elysia then builds only what the handler reads. A handler
        // that reads `server` gets it as a getter defined on its context per request: only a
        // plugin, whose parent app listens, needs it; our own listener is `app.server`.
        routes.ownPathsOnly
          ? ({ request, server, set }) => postMcp({ request, server, set })
          : ({ request, set }) => postMcp({ request, server: null, set }),
        { parse: 'none' },
      )
      // GET and DELETE belong to 2025 sessions; without one they are a 2026 client's: 405.
      .get('/mcp', ({ request, server, set }) => {
        if (!request.headers.has('mcp-session-id')) return methodNotAllowed(request)
        const ctx = { request, server, set }
        return sse(ctx, routes.streamable.get(request, owner(request), connectionOf(ctx)))
      })
      .delete('/mcp', ({ request }) =>
        request.headers.has('mcp-session-id')
          ? routes.streamable.delete(request, owner(request))
          : methodNotAllowed(request),
      )
  )
}

/** Whether an object has an own enumerable key, without listing them. */
function hasKeys(record: Record<string, unknown>): boolean {
  for (const _ in record) return true
  return false
}

/** GET or DELETE /mcp without a 2025 session: the 2026-07-28 endpoint accepts POST only. */
function methodNotAllowed(request: Request): Response {
  return transportErrorResponse(
    new TransportError(
      405,
      TRANSPORT_ERROR_CODE,
      `Method Not Allowed: ${request.method} /mcp needs an Mcp-Session-Id (2025 sessions); 2026-07-28 clients POST`,
      { allow: 'POST' },
    ),
  )
}

import { Elysia } from 'elysia'
import type { LegacySseTransport } from '../transport/legacy-sse.ts'
import { SSE_HEADERS } from '../transport/sse-frame.ts'
import {
  TRANSPORT_ERROR_CODE,
  TransportError,
  transportErrorResponse,
} from '../transport/transport-error.ts'

export interface HttpRoutes {
  legacy: LegacySseTransport
  health: () => Record<string, unknown>
  metrics: () => string
}

/** Seconds Bun waits on an evicted stream's silent socket before it drops it. */
const EVICTED_SOCKET_TIMEOUT_S = 1

/** The Elysia app: routes only. Every decision is made by the transport it calls. */
export function createHttpApp(routes: HttpRoutes) {
  return (
    new Elysia()
      .onError(({ code, request }) => {
        if (code === 'NOT_FOUND') {
          const path = new URL(request.url).pathname
          return transportErrorResponse(
            new TransportError(
              404,
              TRANSPORT_ERROR_CODE,
              `Not Found: no route for ${request.method} ${path}`,
            ),
          )
        }
        return undefined
      })
      .get('/health', () => routes.health())
      .get(
        '/metrics',
        () =>
          new Response(routes.metrics(), {
            headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
          }),
      )
      // Legacy HTTP+SSE (2024-11-05).
      .get('/sse', ({ request, server, set }) => {
        // Bun closes a connection idle for `idleTimeout` (10 s by default); a quiet SSE stream is
        // kept alive by our own keepalives and send deadline instead.
        server?.timeout(request, 0)
        Object.assign(set.headers, SSE_HEADERS)
        return routes.legacy.open(request, {
          postPath: '/message',
          sessionParam: 'sessionId',
          greet: false,
          onServerClose: () => server?.timeout(request, EVICTED_SOCKET_TIMEOUT_S),
        })
      })
      .post(
        '/message',
        ({ request }) =>
          routes.legacy.post(request, new URL(request.url), { directToolCalls: false }),
        {
          parse: 'none',
        },
      )
      // The seed server's flow: /notifications opens a legacy session, POST /mcp?session_id=... feeds it.
      .get('/notifications', ({ request, server, set }) => {
        server?.timeout(request, 0)
        Object.assign(set.headers, SSE_HEADERS)
        return routes.legacy.open(request, {
          postPath: '/mcp',
          sessionParam: 'session_id',
          greet: true,
          onServerClose: () => server?.timeout(request, EVICTED_SOCKET_TIMEOUT_S),
        })
      })
      .post(
        '/mcp',
        ({ request }) =>
          routes.legacy.post(request, new URL(request.url), { directToolCalls: true }),
        {
          parse: 'none',
        },
      )
  )
}

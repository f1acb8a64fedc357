import { TRANSPORT_ERROR_CODE, TransportError, transportErrorResponse } from './transport-error.ts'

/** Request headers MCP clients send, which browsers must be allowed to send cross-origin. */
export const CORS_ALLOW_HEADERS =
  'Content-Type, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Accept'
export const CORS_EXPOSE_HEADERS = 'Mcp-Session-Id'
const CORS_ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS'
const PREFLIGHT_MAX_AGE_S = '86400'

/** Cross-origin access for browser clients, from a configured list of origins (or `*`). */
export class CorsPolicy {
  readonly #origins: ReadonlySet<string>
  readonly #any: boolean

  constructor(origins: readonly string[]) {
    this.#any = origins.includes('*')
    this.#origins = new Set(origins)
  }

  /** Whether any origin is allowed at all. */
  get enabled(): boolean {
    return this.#origins.size > 0
  }

  allows(origin: string): boolean {
    return this.#any || this.#origins.has(origin)
  }

  /** Headers for an actual (non-preflight) response; empty when CORS does not apply. */
  headersFor(request: Request): Record<string, string> {
    const origin = request.headers.get('origin')
    if (!origin || !this.allows(origin)) return {}
    return {
      'access-control-allow-origin': this.#any ? '*' : origin,
      'access-control-expose-headers': CORS_EXPOSE_HEADERS,
      ...(this.#any ? {} : { vary: 'Origin' }),
    }
  }

  /** The answer to a CORS preflight, or undefined when the request is not one. */
  preflight(request: Request): Response | undefined {
    const origin = request.headers.get('origin')
    if (
      request.method !== 'OPTIONS' ||
      !origin ||
      !request.headers.has('access-control-request-method')
    ) {
      return undefined
    }
    if (!this.allows(origin)) {
      return transportErrorResponse(
        new TransportError(403, TRANSPORT_ERROR_CODE, `Forbidden: origin ${origin} is not allowed`),
      )
    }
    return new Response(null, {
      status: 204,
      headers: {
        ...this.headersFor(request),
        'access-control-allow-methods': CORS_ALLOW_METHODS,
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': PREFLIGHT_MAX_AGE_S,
      },
    })
  }
}

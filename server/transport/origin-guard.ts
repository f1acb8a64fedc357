import { badRequest, TRANSPORT_ERROR_CODE, TransportError } from './transport-error.ts'

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/i

export interface OriginGuardOptions {
  /** Port the server listens on (known once it listens). */
  port: () => number
  /** Whether the server is bound to a loopback address (then Host is checked too). */
  loopback: boolean
  /**
   * Extra allowed Origin values (exact) beyond localhost origins; `*` allows any. The origins
   * allowed for CORS belong here too: one policy decides which pages may call the server.
   */
  allowedOrigins: readonly string[]
  /** Extra allowed Host values (host:port) beyond the server's own loopback names. */
  allowedHosts: readonly string[]
}

/**
 * DNS-rebinding protection for every route, as the MCP transport spec asks: a request whose
 * `Origin` is not allowed, or (bound to loopback) whose `Host` is not this server, gets 403 and
 * creates nothing. Default: localhost origins and the server's own host:port only. Allowing any
 * origin (`*`) never lifts the Host check: a rebound name is refused by its Host.
 */
export class OriginGuard {
  readonly #origins: ReadonlySet<string>
  readonly #extraHosts: ReadonlySet<string>
  readonly #anyOrigin: boolean
  /** The loopback `host:port` values of the port they were made for (checked on every request). */
  #ownHosts: { port: number; hosts: ReadonlySet<string> } | undefined

  constructor(private readonly options: OriginGuardOptions) {
    this.#anyOrigin = options.allowedOrigins.includes('*')
    this.#origins = new Set(options.allowedOrigins.map((o) => o.toLowerCase()))
    this.#extraHosts = new Set(options.allowedHosts.map((h) => h.toLowerCase()))
  }

  #hostAllowed(host: string): boolean {
    if (this.#extraHosts.has(host)) return true
    const port = this.options.port()
    if (this.#ownHosts?.port !== port) {
      this.#ownHosts = { port, hosts: new Set(LOOPBACK_NAMES.map((name) => `${name}:${port}`)) }
    }
    return this.#ownHosts.hosts.has(host)
  }

  /**
   * @throws TransportError 400 without a Host, 403 when the request may come from a rebound or
   * foreign page.
   */
  check(request: Request): void {
    const hostHeader = request.headers.get('host')
    if (!hostHeader) throw badRequest('a Host header is required')
    const origin = request.headers.get('origin')
    if (origin !== null && !this.#anyOrigin) {
      const o = origin.toLowerCase()
      if (!LOOPBACK_ORIGIN.test(o) && !this.#origins.has(o)) {
        throw new TransportError(
          403,
          TRANSPORT_ERROR_CODE,
          `Forbidden: origin ${origin} is not allowed`,
        )
      }
    }
    if (this.options.loopback) {
      const host = hostHeader.toLowerCase()
      if (!this.#hostAllowed(host)) {
        throw new TransportError(
          403,
          TRANSPORT_ERROR_CODE,
          `Forbidden: host ${host} is not allowed`,
        )
      }
    }
  }
}

import type { Counter } from '../observability/metrics.ts'
import { paginate } from '../protocol/catalog.ts'
import { invalidParams, ProtocolError } from '../protocol/errors.ts'
import type { McpFeature, MethodHandler, PeerDirectory } from '../protocol/feature.ts'
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts'
import type { McpPeer } from '../protocol/peer.ts'
import { checkUriLength, type ResourceRegistry } from './registry.ts'

/** MCP's error code for a URI no resource answers to. */
export const RESOURCE_NOT_FOUND = -32002
/** URIs one session may watch; more subscriptions are refused. */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 1_000

/** The URIs one session watches, and their UTF-8 bytes charged to its budget. */
interface Subscriptions {
  readonly uris: Set<string>
  bytes: number
}

/**
 * resources/list, resources/templates/list, resources/read and subscriptions. Subscriptions live
 * with their session (a WeakMap keyed by it); each subscribed URI's bytes are charged to the
 * session and the server budget, released on unsubscribe or, all at once, when the session closes.
 */
export class ResourcesFeature implements McpFeature {
  readonly methods: ReadonlyMap<string, MethodHandler>
  readonly #subscriptions = new WeakMap<McpPeer, Subscriptions>()

  constructor(
    private readonly registry: ResourceRegistry,
    private readonly directory: PeerDirectory,
    /** `sluice_limit_refusals_total`: a subscription past the per-session limit is counted. */
    private readonly limitRefusals: Counter,
  ) {
    this.methods = new Map<string, MethodHandler>([
      ['resources/list', (req) => this.#list(req)],
      ['resources/templates/list', (req) => this.#listTemplates(req)],
      [
        'resources/read',
        async (req, ctx) => {
          const uri = uriParam(req)
          const contents = await this.registry.read(uri, ctx)
          if (!contents) throw notFound(uri)
          return { contents }
        },
      ],
      ['resources/subscribe', (req, _ctx, peer) => this.#subscribe(req, peer)],
      [
        'resources/unsubscribe',
        (req, _ctx, peer) => {
          const uri = uriParam(req)
          const subscriptions = this.#subscriptions.get(peer)
          if (subscriptions?.uris.delete(uri)) {
            const bytes = Buffer.byteLength(uri)
            subscriptions.bytes -= bytes
            peer.chargeTransit(-bytes)
          }
          return {}
        },
      ],
    ])
  }

  capabilities(): Record<string, unknown> | undefined {
    if (this.registry.resources.size === 0 && this.registry.templates.size === 0) return undefined
    return { resources: { subscribe: true, listChanged: true } }
  }

  /** Sends `notifications/resources/updated` to every session subscribed to `uri`. */
  notifyUpdated(uri: string): number {
    let sent = 0
    for (const peer of this.directory.peers()) {
      if (!this.#subscriptions.get(peer)?.uris.has(uri)) continue
      peer.send({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } })
      sent++
    }
    return sent
  }

  #list(req: JsonRpcRequest): Record<string, unknown> {
    const { page, nextCursor } = paginate(this.registry.resources.values(), req.params?.cursor)
    return { resources: page.map((r) => r.descriptor), ...(nextCursor ? { nextCursor } : {}) }
  }

  #listTemplates(req: JsonRpcRequest): Record<string, unknown> {
    const { page, nextCursor } = paginate(this.registry.templates.values(), req.params?.cursor)
    return {
      resourceTemplates: page.map((t) => t.descriptor),
      ...(nextCursor ? { nextCursor } : {}),
    }
  }

  #subscribe(req: JsonRpcRequest, peer: McpPeer): Record<string, unknown> {
    const uri = uriParam(req)
    if (!this.registry.knows(uri)) throw notFound(uri)
    // A closing session keeps nothing: its close path may have released its subscriptions.
    if (peer.isClosed) return {}
    const subscriptions = this.#subscriptionsOf(peer)
    if (subscriptions.uris.has(uri)) return {}
    if (subscriptions.uris.size >= MAX_SUBSCRIPTIONS_PER_SESSION) {
      this.limitRefusals.inc({ limit: 'subscriptions_per_session' })
      throw invalidParams(
        `session ${peer.sessionId} already watches ${MAX_SUBSCRIPTIONS_PER_SESSION} resources, its limit`,
      )
    }
    const bytes = Buffer.byteLength(uri)
    subscriptions.uris.add(uri)
    subscriptions.bytes += bytes
    peer.chargeTransit(bytes)
    return {}
  }

  /** The session's subscriptions; made on its first, with the close path that releases them all. */
  #subscriptionsOf(peer: McpPeer): Subscriptions {
    const existing = this.#subscriptions.get(peer)
    if (existing) return existing
    const created: Subscriptions = { uris: new Set(), bytes: 0 }
    this.#subscriptions.set(peer, created)
    peer.signal.addEventListener(
      'abort',
      () => {
        peer.chargeTransit(-created.bytes)
        created.bytes = 0
        created.uris.clear()
      },
      { once: true },
    )
    return created
  }
}

function uriParam(req: JsonRpcRequest): string {
  const uri = req.params?.uri
  if (typeof uri !== 'string' || uri === '') throw invalidParams(`${req.method} needs a "uri"`)
  checkUriLength(uri, req.method)
  return uri
}

function notFound(uri: string): ProtocolError {
  return new ProtocolError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri })
}

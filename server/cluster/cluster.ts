import { randomBytes } from 'node:crypto'
import type { Logger } from '../observability/log.ts'
import type { MetricsRegistry } from '../observability/metrics.ts'
import type { InProcessChangeBus } from '../protocol/change-bus.ts'
import type { SessionRegistry } from '../session/registry.ts'
import { STANDALONE_STREAM } from '../session/session.ts'
import { readBodyText } from '../transport/json-body.ts'
import {
  clientGoneResponse,
  serviceUnavailable,
  TransportError,
  transportErrorResponse,
} from '../transport/transport-error.ts'
import { RedisChangeBus } from './change-bus.ts'
import { RedisLink } from './connection.ts'
import { SessionDirectory, type SessionHome } from './directory.ts'
import { EventStore } from './event-store.ts'
import { InstanceHeartbeat } from './heartbeat.ts'
import { CHANGES_CHANNEL, relayChannel } from './keys.ts'
import { RelayClient, type RelayLimits } from './relay-client.ts'
import { type LocalHandler, RelayHome } from './relay-home.ts'
import { decodeRelay } from './relay-wire.ts'
import { sessionTarget } from './session-target.ts'

/** What an instance gives its cluster layer. */
export interface ClusterHost {
  redisUrl: string
  instanceId: string
  /** Heartbeat TTL: the bound within which a dead instance's sessions answer 404 elsewhere. */
  instanceTtlMs: number
  sessions: SessionRegistry
  /** The instance's own change bus: remote changes are delivered to its listeners. */
  localChanges: InProcessChangeBus
  /** The instance's app handler, for requests relayed to it. */
  handle: LocalHandler
  relayLimits: RelayLimits
  /** Whether the standalone streams' events are kept in Redis for a takeover's replay. */
  eventStore: boolean
  /** Events a stream keeps for replay, and how long an idle session lives. */
  replayEvents: number
  idleTtlMs: number
  metrics: MetricsRegistry
  logger: Logger
}

const EMPTY = new Uint8Array(0)
const encoder = new TextEncoder()
/** How long an unknown session id waits before its second lookup (only unknown ids pay it). */
const RECHECK_MS = 20
/** How long a request for a local session waits for a heartbeat that may have lapsed. */
const RENEW_WAIT_MS = 500
/** The highest event number a takeover accepts: far from where integers stop being exact. */
const MAX_POSITION = 2 ** 48

/**
 * One instance's membership in a cluster on Redis: its heartbeat, the directory records of its
 * sessions, the relay both ways, and the change bus. Requests for a session held elsewhere are
 * forwarded to its home rather than served here, so that everything a session holds (pending
 * calls, input requests, subscriptions, log level, replay window, pacing) keeps one owner and one
 * close path; the price is a hop through Redis for each cross-instance request.
 */
export class Cluster {
  readonly changes: RedisChangeBus
  readonly #link: RedisLink
  readonly #heartbeat: InstanceHeartbeat
  readonly #directory: SessionDirectory
  readonly #client: RelayClient
  readonly #home: RelayHome
  readonly #host: ClusterHost
  /**
   * This process in the cluster's keys and channels: its instance id (a label an operator may
   * give two instances by mistake) and a random suffix of its own. A restarted instance is a new
   * node: the records of its previous life point to a gone node, and answer 404.
   */
  readonly #node: string
  readonly #connected = Promise.withResolvers<void>()
  #subscribed: Promise<unknown> = Promise.resolve()
  readonly #watchdog: ReturnType<typeof setInterval>
  readonly #relays
  readonly #adopted
  /** Sessions being taken over by this instance: their other requests wait for it. */
  readonly #adopting = new Map<string, Promise<boolean>>()
  readonly #events: EventStore | undefined
  #removeLifecycle: () => void = () => undefined

  private constructor(host: ClusterHost, link: RedisLink) {
    this.#host = host
    this.#link = link
    this.#node = `${host.instanceId}/${randomBytes(4).toString('hex')}`
    const { metrics } = host
    const node = this.#node
    this.#directory = new SessionDirectory(link, node, host.sessions)
    const directory = this.#directory
    this.#heartbeat = new InstanceHeartbeat(link, node, host.instanceTtlMs, () =>
      directory.rewriteAll(),
    )
    this.changes = new RedisChangeBus(link, node, host.localChanges)
    this.#relays = metrics.counter(
      'sluice_relays_total',
      'Requests for a session held by another instance, forwarded to it.',
    )
    const lost = metrics.counter(
      'sluice_relays_lost_total',
      'Relayed requests ended before their home finished them, by reason (redis_lost, home_gone, buffer_full, memory_budget, send_deadline, home_error).',
    )
    this.#adopted = metrics.counter(
      'sluice_sessions_adopted_total',
      'Streamable HTTP sessions this instance took over from a dead home.',
    )
    this.#events = host.eventStore
      ? new EventStore(link, host.replayEvents, host.idleTtlMs, host.instanceTtlMs, metrics)
      : undefined
    this.#client = new RelayClient(link, node, host.relayLimits, lost, host.sessions.budget)
    this.#home = new RelayHome(link, host.handle, host.logger)
    metrics.gauge('sluice_redis_connected', '1 while the cluster reaches Redis.', () =>
      link.connected ? 1 : 0,
    )
    metrics.gauge(
      'sluice_redis_reconnects_total',
      'Times the Redis connection came back after it was lost.',
      () => link.reconnects,
      'counter',
    )
    metrics.gauge(
      'sluice_relays_in_flight',
      'Relayed requests this instance waits on, and relayed requests it serves.',
      () => this.#client.inFlight + this.#home.serving,
    )
    this.#watchdog = setInterval(() => this.#watch(), Math.max(50, host.instanceTtlMs / 3))
    this.#watchdog.unref()
  }

  /** Connects (ioredis is loaded here, only when a Redis URL is given) and joins the cluster. */
  static async start(host: ClusterHost): Promise<Cluster> {
    let cluster: Cluster | undefined
    const link = await RedisLink.open(host.redisUrl, `sluice:${host.instanceId}`, host.logger, {
      ready: () => {
        if (cluster) cluster.#onReady()
      },
      lost: () => {
        if (cluster) cluster.#onLost()
      },
    })
    cluster = new Cluster(host, link)
    cluster.#listen()
    if (link.connected) cluster.#onReady()
    return cluster
  }

  /** Resolves once this instance has joined (Redis reached, heartbeat and subscriptions up). */
  async whenConnected(): Promise<void> {
    await this.#connected.promise
    await this.#subscribed
  }

  get connected(): boolean {
    return this.#link.connected
  }

  /**
   * Answers a request for a session this instance does not hold, by relaying it to the session's
   * home; undefined lets the local handler answer (no session named, a local session, or one the
   * cluster does not know or whose home is gone: the usual 404).
   * @param keepOpen exempts the connection from the idle timeout (a relayed SSE stream).
   */
  async route(
    request: Request,
    owner: string,
    keepOpen: () => void,
  ): Promise<Response | undefined> {
    const id = sessionTarget(request, new URL(request.url))
    if (id === undefined) return undefined
    if (this.#host.sessions.get(id)) {
      // This instance's heartbeat may have expired (it stalled, or Redis was slow): another may
      // have taken the session over meanwhile. Beat first; a copy taken over ends here, and the
      // request goes to the session's new home. A Redis that does not answer within
      // RENEW_WAIT_MS holds no one up: local sessions keep working without it.
      if (!this.#heartbeat.lapsed || !this.#link.connected) return undefined
      await Promise.race([this.#heartbeat.renew().catch(() => undefined), Bun.sleep(RENEW_WAIT_MS)])
      if (this.#host.sessions.get(id)) return undefined
    }
    // This instance is taking the session over right now: the request is served here after.
    if (this.#adopting.has(id)) {
      await this.#adopting.get(id)?.catch(() => undefined)
      return undefined
    }
    if (!this.#link.connected) return redisUnavailable()
    let found: Awaited<ReturnType<SessionDirectory['lookup']>>
    try {
      found = await this.#directory.lookup(id)
      // The home writes a new session's record without holding up its initialize answer, so a
      // client that goes straight to another instance may be a moment ahead of it: look once more.
      if (!found.found) {
        await Bun.sleep(RECHECK_MS)
        found = await this.#directory.lookup(id)
      }
    } catch {
      return redisUnavailable()
    }
    if (!found.found || found.home.instanceId === this.#node) {
      // Taken over by this instance meanwhile: served here once that is done.
      await this.#adopting.get(id)?.catch(() => undefined)
      return undefined
    }
    // Another credential's session does not exist for this one, as on a single instance.
    if (found.home.owner !== owner) return undefined
    if (!found.alive) {
      if (!found.home.state) {
        this.#directory.forgetStale(id, found.home)
        return undefined
      }
      try {
        const adoption = this.#adopt(request, id, found.home)
        this.#adopting.set(id, adoption)
        const won = await adoption.finally(() => this.#adopting.delete(id))
        if (won) return undefined
        // Another instance won the race: it is the home now.
        found = await this.#directory.lookup(id)
      } catch {
        return redisUnavailable()
      }
      if (!found.found || !found.alive || found.home.instanceId === this.#node) return undefined
    }
    let body = EMPTY
    if (request.method !== 'GET' && request.method !== 'DELETE') {
      // The home's own checks (content type, --max-body-bytes), made here: a body its home would
      // refuse is refused with the same answer, without crossing Redis.
      try {
        body = encoder.encode(await readBodyText(request, this.#host.relayLimits.maxBodyBytes))
      } catch (err) {
        if (err instanceof TransportError) return transportErrorResponse(err)
        // The client left mid-upload: nobody reads an answer, and nothing is relayed.
        return clientGoneResponse()
      }
    }
    this.#relays.inc()
    // A legacy POST is answered (202) only once its home answered, so a client that waits for
    // each answer before its next POST (as the SDK does) keeps its messages in order: the home
    // takes them one by one from one pub/sub channel, in the order they were published.
    const { home } = found
    const response = await this.#client.forward(home.instanceId, id, request, body, () => {
      // A session another instance can take over is not gone: once the home's heartbeat has
      // expired (within --instance-ttl-ms) the next request takes it over.
      if (home.state) return takeoverPending()
      this.#directory.forgetStale(id, home)
      return undefined
    })
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) keepOpen()
    return response
  }

  /**
   * Takes over a Streamable HTTP session whose home died: wins the record (one instance does),
   * then opens the session here with its negotiated state and its standalone stream's stored
   * events. Calls in flight on the dead home are lost. False when another instance won.
   */
  async #adopt(request: Request, id: string, home: SessionHome): Promise<boolean> {
    if (!home.state || !(await this.#directory.adopt(id, home))) return false
    let events: Awaited<ReturnType<EventStore['read']>> = []
    try {
      events = (await this.#events?.read(id, STANDALONE_STREAM)) ?? []
    } catch {
      events = []
    }
    // A client resuming past what was stored still gets numbers after its own (one a stream can
    // reach: numbering needs exact integers). The highest stored number counts, not the last
    // entry's (a stale copy's late write).
    const resumed = Number(/^0_(\d+)$/.exec(request.headers.get('last-event-id') ?? '')?.[1] ?? 0)
    let lastSeq = resumed <= MAX_POSITION ? resumed : 0
    for (const { seq } of events) if (seq > lastSeq && seq <= MAX_POSITION) lastSeq = seq
    try {
      this.#host.sessions.adopt({
        id,
        owner: home.owner,
        state: home.state,
        standalone: { events, lastSeq },
      })
    } catch {
      // No room here (a limit): the session is lost, as if its home had not been taken over;
      // nothing of it stays in Redis (its record names this instance, which is alive).
      await this.#directory.drop(id, home).catch(() => undefined)
      return true
    }
    if (events.length > 0) this.#events?.kept(id)
    this.#adopted.inc()
    this.#host.logger.info('session_adopted', { session: id, from: home.instanceId })
    return true
  }

  /** Leaves the cluster: heartbeat and this instance's records removed, connections closed. */
  async stop(): Promise<void> {
    clearInterval(this.#watchdog)
    this.#events?.stop()
    this.#removeLifecycle()
    this.#client.endAll('redis_lost')
    this.#home.abortAll(false)
    await this.#directory.removeAll()
    await this.#heartbeat.stop()
    await this.#link.close()
  }

  #listen(): void {
    const own = relayChannel(this.#node)
    this.#link.subscriber.on('messageBuffer', (channel: Buffer, frame: Buffer) => {
      const name = channel.toString()
      if (name === CHANGES_CHANNEL) {
        this.changes.receive(frame.toString())
        return
      }
      if (name !== own) return
      const decoded = decodeRelay(frame)
      if (!decoded) return
      const { message, payload } = decoded
      if (message.t === 'req' || message.t === 'abort') this.#home.receive(message, payload)
      else this.#client.receive(message, payload)
    })
    // ioredis subscribes again by itself after a reconnect.
    this.#subscribed = this.#link.subscriber.subscribe(own, CHANGES_CHANNEL).catch(() => undefined)
    const removeDirectory = this.#host.sessions.onLifecycle(this.#directory)
    const events = this.#events
    const removeEvents = events ? this.#host.sessions.onLifecycle(events) : () => undefined
    this.#removeLifecycle = () => {
      removeDirectory()
      removeEvents()
    }
  }

  #onReady(): void {
    this.#heartbeat.start()
    // A restarted Redis (no persistence) lost our records; sessions opened before we joined
    // were never written.
    void this.#directory.rewriteAll()
    this.#client.flushAborts()
    this.#home.tellAborted()
    if (this.#link.reconnects > 0) this.changes.announceMissedChanges()
    this.#connected.resolve()
  }

  #onLost(): void {
    this.#client.endAll('redis_lost')
    this.#home.abortAll(true)
  }

  #watch(): void {
    this.#client.sweep()
    if (!this.#link.connected) return
    for (const home of this.#client.homes()) {
      this.#heartbeat.isAlive(home).then(
        (alive) => {
          if (!alive) this.#client.endTo(home)
        },
        () => undefined,
      )
    }
    // An asker that died (or hangs) reads nothing more: what is served for it here ends.
    for (const asker of this.#home.askers()) {
      this.#heartbeat.isAlive(asker).then(
        (alive) => {
          if (!alive) this.#home.stopFrom(asker)
        },
        () => undefined,
      )
    }
  }
}

function takeoverPending(): Response {
  return transportErrorResponse(
    serviceUnavailable(
      'Service Unavailable: the instance that held this session is gone; another takes it over once its heartbeat expires; retry shortly',
    ),
  )
}

function redisUnavailable(): Response {
  return transportErrorResponse(
    serviceUnavailable(
      'Service Unavailable: this session lives on another instance and the cluster cannot reach Redis; retry shortly',
    ),
  )
}

import type { Redis as RedisClient, RedisOptions } from 'ioredis'
import type { Logger } from '../observability/log.ts'

/** How long closing waits for Redis to answer the commands already sent. */
const CLOSE_GRACE_MS = 1_000

/**
 * How long a command may wait for Redis. A Redis that hangs (its sockets open, nothing answers)
 * would otherwise hold every lookup, and the request behind it, for as long as it hangs: past
 * this the command fails and the request is answered 503 (Redis unavailable).
 */
const COMMAND_TIMEOUT_MS = 2_000

/** Reconnect delay after the n-th failed attempt: quick at first, at most a second. */
const retryDelayMs = (attempt: number) => Math.min(50 * attempt, 1_000)

export interface RedisLinkEvents {
  /** Both connections are ready again after one was lost (or for the first time). */
  ready(): void
  /** A connection was lost: what was in flight over Redis is gone. */
  lost(): void
}

/**
 * The cluster's two Redis connections: one for commands (it fails at once while Redis is away,
 * rather than queueing), one for pub/sub. ioredis re-subscribes the subscriber by itself after a
 * reconnect (bench/redis-client-probe.ts checks it); `ready` tells when both are usable again.
 */
export class RedisLink {
  readonly command: RedisClient
  readonly subscriber: RedisClient
  #connected = false
  #reconnects = 0

  private constructor(
    command: RedisClient,
    subscriber: RedisClient,
    private readonly logger: Logger,
  ) {
    this.command = command
    this.subscriber = subscriber
  }

  /** Loads ioredis (only a cluster does) and starts connecting; it retries until `close()`. */
  /** @param name the connections' name in Redis (`CLIENT LIST`), so an operator sees whose they are. */
  static async open(
    url: string,
    name: string,
    logger: Logger,
    events: RedisLinkEvents,
  ): Promise<RedisLink> {
    const { default: Redis } = await import('ioredis')
    const options: RedisOptions = {
      lazyConnect: true,
      retryStrategy: retryDelayMs,
      maxRetriesPerRequest: 1,
      connectionName: name,
    }
    const link = new RedisLink(
      new Redis(url, { ...options, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS }),
      new Redis(url, options),
      logger,
    )
    link.#watch(events)
    // Failures are reported by the events and retried by ioredis; nothing waits on these.
    link.command.connect().catch(() => undefined)
    link.subscriber.connect().catch(() => undefined)
    return link
  }

  /** Whether both connections are ready now. */
  get connected(): boolean {
    return this.#connected
  }

  /** Times the link came back after it was lost. */
  get reconnects(): number {
    return this.#reconnects
  }

  #watch(events: RedisLinkEvents): void {
    let everReady = false
    const update = () => {
      const now = this.command.status === 'ready' && this.subscriber.status === 'ready'
      if (now === this.#connected) return
      this.#connected = now
      if (now) {
        if (everReady) this.#reconnects++
        everReady = true
        this.logger.info('redis_connected', { reconnects: this.#reconnects })
        events.ready()
      } else {
        this.logger.warn('redis_lost', {})
        events.lost()
      }
    }
    for (const client of [this.command, this.subscriber]) {
      client.on('ready', update)
      client.on('close', update)
      client.on('end', update)
      client.on('error', (err: Error) => this.logger.debug('redis_error', { err: err.message }))
    }
  }

  /** Closes both connections after the commands already sent (record deletions) are answered. */
  async close(): Promise<void> {
    this.subscriber.disconnect()
    if (this.command.status !== 'ready') {
      this.command.disconnect()
      return
    }
    await Promise.race([this.command.quit().catch(() => undefined), Bun.sleep(CLOSE_GRACE_MS)])
    this.command.disconnect()
  }
}

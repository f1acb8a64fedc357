import type { RedisLink } from './connection.ts'
import { instanceKey } from './keys.ts'

/**
 * This instance's heartbeat: a key with a TTL, refreshed every TTL/3. Once the process dies the
 * key expires within the TTL, and the others answer its sessions 404 from then on.
 */
export class InstanceHeartbeat {
  #timer: ReturnType<typeof setInterval> | undefined
  /** When the last beat that Redis confirmed was sent (performance.now()): the key lives a TTL. */
  #confirmedAt = Number.NEGATIVE_INFINITY
  #confirming: Promise<void> | undefined

  constructor(
    private readonly link: RedisLink,
    readonly instanceId: string,
    readonly ttlMs: number,
    /**
     * The key was gone when this instance beat (its first beat, a restarted Redis, or a lapse
     * while it lived: a stall, a slow Redis): the others took it for gone and may have deleted
     * its records.
     */
    private readonly onLapse: () => Promise<void> = async () => undefined,
  ) {}

  /**
   * Whether the key may have expired since the last confirmed beat (this process stalled, or
   * Redis was slow): another instance may have taken this one's sessions over meanwhile.
   */
  get lapsed(): boolean {
    return performance.now() - this.#confirmedAt >= this.ttlMs
  }

  /**
   * Beats now and waits for the outcome, the lapse's handling included (a session another
   * instance took over is closed here once this resolves). One beat at a time: only the first
   * after a lapse finds the key gone.
   * @throws when Redis cannot answer.
   */
  confirm(): Promise<void> {
    this.#confirming ??= this.#beat().finally(() => {
      this.#confirming = undefined
    })
    return this.#confirming
  }

  /**
   * Resolves once a beat sent after this call confirmed the key (a beat already in flight may
   * have been sent before a stall), the lapse's handling included.
   * @throws when Redis cannot answer.
   */
  async renew(): Promise<void> {
    for (let beats = 0; beats < 2 && this.lapsed; beats++) await this.confirm()
  }

  /** Writes the key now and keeps it fresh; safe to call again after a reconnect. */
  start(): void {
    this.beat()
    this.#timer ??= setInterval(() => this.beat(), Math.max(1, Math.floor(this.ttlMs / 3)))
    this.#timer.unref()
  }

  beat(): void {
    if (!this.link.connected) return
    // A lost beat is retried at the next tick; the TTL leaves room for two.
    this.confirm().catch(() => undefined)
  }

  async #beat(): Promise<void> {
    const key = instanceKey(this.instanceId)
    const command = this.link.command
    const sentAt = performance.now()
    if ((await command.set(key, String(Date.now()), 'PX', this.ttlMs, 'XX')) === null) {
      const again = performance.now()
      await command.set(key, String(Date.now()), 'PX', this.ttlMs)
      await this.onLapse()
      this.#confirmedAt = Math.max(this.#confirmedAt, again)
      return
    }
    this.#confirmedAt = Math.max(this.#confirmedAt, sentAt)
  }

  /** Whether `instanceId` is alive (its key exists). */
  async isAlive(instanceId: string): Promise<boolean> {
    return (await this.link.command.exists(instanceKey(instanceId))) === 1
  }

  /** Stops beating and removes the key, so that the others stop routing here at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    if (this.link.connected)
      await this.link.command.del(instanceKey(this.instanceId)).catch(() => 0)
  }
}

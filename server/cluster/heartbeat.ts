import type { RedisLink } from './connection.ts'
import { instanceKey } from './keys.ts'

/**
 * This instance's heartbeat: a key with a TTL, refreshed every TTL/3. Once the process dies the
 * key expires within the TTL, and the others answer its sessions 404 from then on.
 */
export class InstanceHeartbeat {
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly link: RedisLink,
    readonly instanceId: string,
    readonly ttlMs: number,
    /**
     * The key was gone when this instance beat (its first beat, a restarted Redis, or a lapse
     * while it lived: a stall, a slow Redis): the others took it for gone and may have deleted
     * its records.
     */
    private readonly onLapse: () => void = () => undefined,
  ) {}

  /** Writes the key now and keeps it fresh; safe to call again after a reconnect. */
  start(): void {
    this.beat()
    this.#timer ??= setInterval(() => this.beat(), Math.max(1, Math.floor(this.ttlMs / 3)))
    this.#timer.unref()
  }

  beat(): void {
    if (!this.link.connected) return
    // A lost beat is retried at the next tick; the TTL leaves room for two.
    const key = instanceKey(this.instanceId)
    const command = this.link.command
    command
      .set(key, String(Date.now()), 'PX', this.ttlMs, 'XX')
      .then(async (refreshed) => {
        if (refreshed !== null) return
        await command.set(key, String(Date.now()), 'PX', this.ttlMs)
        this.onLapse()
      })
      .catch(() => undefined)
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

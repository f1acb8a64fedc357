import type { ChangeBus, ChangeEvent, InProcessChangeBus } from '../protocol/change-bus.ts'
import type { RedisLink } from './connection.ts'
import { CHANGES_CHANNEL } from './keys.ts'

/**
 * A change bus over Redis pub/sub: a publish reaches this instance's listeners at once (through
 * the in-process bus) and the other instances through Redis. Each message names its instance, so
 * an instance drops its own publish when Redis echoes it back: it is never delivered twice.
 */
export class RedisChangeBus implements ChangeBus {
  constructor(
    private readonly link: RedisLink,
    private readonly instanceId: string,
    private readonly local: InProcessChangeBus,
  ) {}

  publish(event: ChangeEvent): void {
    this.local.publish(event)
    if (!this.link.connected) return
    this.link.command
      .publish(CHANGES_CHANNEL, JSON.stringify({ from: this.instanceId, event }))
      .catch(() => undefined)
  }

  subscribe(listener: (event: ChangeEvent) => void): () => void {
    return this.local.subscribe(listener)
  }

  /** A message on the changes channel. */
  receive(text: string): void {
    let message: { from?: unknown; event?: ChangeEvent }
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (message.from === this.instanceId || typeof message.event?.kind !== 'string') return
    this.local.publish(message.event)
  }

  /**
   * Redis came back: what was published meanwhile is lost, so local listeners hear that every
   * list may have changed.
   */
  announceMissedChanges(): void {
    this.local.publish({ kind: 'toolsListChanged' })
    this.local.publish({ kind: 'promptsListChanged' })
    this.local.publish({ kind: 'resourcesListChanged' })
  }
}

import type { SessionLifecycleListener, SessionRegistry } from '../session/registry.ts'
import type { RedisLink } from './connection.ts'
import { instanceKey, sessionKey } from './keys.ts'

/** Where a session lives, as the directory records it. */
export interface SessionHome {
  instanceId: string
  /** The owner id (a digest prefix of the credential, never the token) that created it. */
  owner: string
}

/** What the directory says of a session this instance does not hold. */
export type Lookup = { found: false } | { found: true; home: SessionHome; alive: boolean }

/**
 * The cluster's session directory: `session id -> home instance, owner` in Redis, written when a
 * session opens here and deleted when it closes (hooked to the registry's lifecycle, so session
 * code knows nothing of Redis). Writes are not awaited: a lost one is written again with every
 * record of this instance when Redis comes back (`rewriteAll`).
 */
export class SessionDirectory implements SessionLifecycleListener {
  constructor(
    private readonly link: RedisLink,
    private readonly instanceId: string,
    private readonly sessions: SessionRegistry,
  ) {
    // Sent by SHA after the first call (EVALSHA, reloaded by ioredis when Redis lost it).
    link.command.defineCommand('sluiceLookup', { numberOfKeys: 1, lua: LOOKUP_SCRIPT })
    link.command.defineCommand('sluiceForget', { numberOfKeys: 1, lua: FORGET_SCRIPT })
  }

  opened(session: { sessionId: string; owner: string }): void {
    if (!this.link.connected) return
    this.link.command
      .set(sessionKey(session.sessionId), `${this.instanceId} ${session.owner}`)
      .catch(() => undefined)
  }

  closed(session: { sessionId: string }): void {
    if (!this.link.connected) return
    this.link.command.del(sessionKey(session.sessionId)).catch(() => undefined)
  }

  /** Writes the record of every session this instance holds (a restarted Redis lost them). */
  rewriteAll(): void {
    for (const session of this.sessions.all()) this.opened(session)
  }

  /** Removes the records of this instance's sessions (shutdown). */
  async removeAll(): Promise<void> {
    const keys = [...this.sessions.ids()].map(sessionKey)
    if (keys.length > 0 && this.link.connected) {
      await this.link.command.del(...keys).catch(() => 0)
    }
  }

  /**
   * Where `sessionId` lives and whether that instance is alive, in one round trip.
   * @throws when Redis cannot answer.
   */
  async lookup(sessionId: string): Promise<Lookup> {
    const [record, alive] = (await (this.link.command as unknown as Scripts).sluiceLookup(
      sessionKey(sessionId),
      instanceKey(''),
    )) as [string | null, number]
    if (!record) return { found: false }
    const space = record.indexOf(' ')
    const home = { instanceId: record.slice(0, space), owner: record.slice(space + 1) }
    return { found: true, home, alive: alive === 1 }
  }

  /** Deletes a record whose home is gone, unless that home beats again or the record changed. */
  forgetStale(sessionId: string, home: SessionHome): void {
    const scripts = this.link.command as unknown as Scripts
    scripts
      .sluiceForget(sessionKey(sessionId), `${home.instanceId} ${home.owner}`, instanceKey(''))
      .catch(() => 0)
  }
}

/** The commands `defineCommand` adds (ioredis types them only through declaration merging). */
interface Scripts {
  sluiceLookup(key: string, heartbeatPrefix: string): Promise<unknown>
  sluiceForget(key: string, record: string, heartbeatPrefix: string): Promise<unknown>
}

// The record and its home's heartbeat are read together (ARGV[1] is the heartbeat key prefix).
const LOOKUP_SCRIPT = `
local record = redis.call('GET', KEYS[1])
if not record then return {false, 0} end
local home = string.match(record, '^(%S+)')
return {record, redis.call('EXISTS', ARGV[1] .. home)}
`
// Not if the home beats again meanwhile: it may have written the record again after a lapse.
const FORGET_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local home = string.match(ARGV[1], '^(%S+)')
if redis.call('EXISTS', ARGV[2] .. home) == 1 then return 0 end
return redis.call('DEL', KEYS[1])
`

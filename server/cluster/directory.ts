import type { PeerState } from '../protocol/peer.ts'
import type { SessionLifecycleListener, SessionRegistry } from '../session/registry.ts'
import type { Session } from '../session/session.ts'
import type { RedisLink } from './connection.ts'
import { eventsKey, instanceKey, sessionKey } from './keys.ts'

/** Where a session lives, as the directory records it. */
export interface SessionHome {
  instanceId: string
  /** The owner id (a digest prefix of the credential, never the token) that created it. */
  owner: string
  /** What a Streamable HTTP session negotiated at initialize: another instance may take it over. */
  state: PeerState | undefined
  /** The record as read, for a compare-and-set. */
  record: string
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
  /** Sessions that closed while Redis was away: their records are deleted when it is back. */
  readonly #unreleased = new Set<string>()

  constructor(
    private readonly link: RedisLink,
    private readonly instanceId: string,
    private readonly sessions: SessionRegistry,
  ) {
    // Sent by SHA after the first call (EVALSHA, reloaded by ioredis when Redis lost it).
    link.command.defineCommand('sluiceLookup', { numberOfKeys: 1, lua: LOOKUP_SCRIPT })
    link.command.defineCommand('sluiceForget', { numberOfKeys: 1, lua: FORGET_SCRIPT })
    link.command.defineCommand('sluiceAdopt', { numberOfKeys: 1, lua: ADOPT_SCRIPT })
    link.command.defineCommand('sluiceClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT })
    link.command.defineCommand('sluiceDrop', { numberOfKeys: 2, lua: DROP_SCRIPT })
    link.command.defineCommand('sluiceRelease', { numberOfKeys: 2, lua: RELEASE_SCRIPT })
  }

  opened(session: Session): void {
    if (!this.link.connected) return
    this.link.command
      .set(sessionKey(session.sessionId), this.recordOf(session))
      .catch(() => undefined)
  }

  /** A Streamable HTTP session's record carries its negotiated state from initialize on. */
  initialized(session: Session): void {
    this.opened(session)
  }

  closed(session: Session): void {
    // Its record and events are the new home's now.
    if (session.closeReason === 'taken_over') return
    // Deleted once Redis is back (`rewriteAll`).
    if (!this.link.connected) this.#unreleased.add(session.sessionId)
    else this.#release(session.sessionId).catch(() => undefined)
  }

  /**
   * Deletes a session's record and events unless the record names another instance: a copy
   * taken over while this one's heartbeat had lapsed may end here before its next beat tells.
   */
  #release(sessionId: string): Promise<unknown> {
    return (this.link.command as unknown as Scripts).sluiceRelease(
      sessionKey(sessionId),
      eventsKey(sessionId),
      this.instanceId,
    )
  }

  /** The record this instance wrote when it took `home`'s session over. */
  recordOfHome(home: SessionHome): string {
    return `${this.instanceId} ${home.owner}${home.state ? ` ${JSON.stringify(home.state)}` : ''}`
  }

  /** `<home> <owner>`, and the negotiated state of a session another instance could continue. */
  recordOf(session: Session): string {
    const base = `${this.instanceId} ${session.owner}`
    const { state } = session
    if (session.endsWithStream || !state.protocolVersion) return base
    return `${base} ${JSON.stringify(state)}`
  }

  /**
   * Writes the record of every session this instance holds (a restarted Redis lost them), and
   * deletes those of sessions that closed while Redis was away; resolves once every write was
   * answered.
   */
  async rewriteAll(): Promise<void> {
    if (!this.link.connected) return
    const scripts = this.link.command as unknown as Scripts
    const writes: Promise<unknown>[] = []
    for (const id of this.#unreleased) writes.push(this.#release(id).catch(() => undefined))
    this.#unreleased.clear()
    for (const session of this.sessions.all()) {
      // A record that names another instance: it took the session over while this one's
      // heartbeat had lapsed (a stall). That copy is the session now; this one ends.
      writes.push(
        scripts
          .sluiceClaim(sessionKey(session.sessionId), this.recordOf(session), this.instanceId)
          .then(
            (kept) => {
              if (kept === 0) session.close('taken_over')
            },
            () => undefined,
          ),
      )
    }
    await Promise.all(writes)
  }

  /** Removes the records of this instance's sessions (shutdown). */
  async removeAll(): Promise<void> {
    if (!this.link.connected) return
    await Promise.all([...this.sessions.ids()].map((id) => this.#release(id).catch(() => 0)))
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
    return { found: true, home: parseRecord(record), alive: alive === 1 }
  }

  /**
   * Makes this instance the home of a session whose home is dead, atomically: true for the one
   * instance whose compare-and-set found the record unchanged and its home's heartbeat gone.
   * @throws when Redis cannot answer.
   */
  async adopt(sessionId: string, home: SessionHome): Promise<boolean> {
    const won = await (this.link.command as unknown as Scripts).sluiceAdopt(
      sessionKey(sessionId),
      home.record,
      instanceKey(home.instanceId),
      this.recordOfHome(home),
    )
    return won === 1
  }

  /**
   * Deletes the record this instance wrote when it took `home`'s session over, and the session's
   * events, unless the record changed since (a session it could not open after all).
   * @throws when Redis cannot answer.
   */
  async drop(sessionId: string, home: SessionHome): Promise<void> {
    await (this.link.command as unknown as Scripts).sluiceDrop(
      sessionKey(sessionId),
      eventsKey(sessionId),
      this.recordOfHome(home),
    )
  }

  /** Deletes a record whose home is gone, unless that home beats again or the record changed. */
  forgetStale(sessionId: string, home: SessionHome): void {
    const scripts = this.link.command as unknown as Scripts
    scripts.sluiceForget(sessionKey(sessionId), home.record, instanceKey('')).catch(() => 0)
  }
}

/** The commands `defineCommand` adds (ioredis types them only through declaration merging). */
interface Scripts {
  sluiceLookup(key: string, heartbeatPrefix: string): Promise<unknown>
  sluiceForget(key: string, record: string, heartbeatPrefix: string): Promise<unknown>
  sluiceClaim(key: string, record: string, home: string): Promise<unknown>
  sluiceAdopt(key: string, record: string, heartbeat: string, next: string): Promise<unknown>
  sluiceDrop(key: string, events: string, record: string): Promise<unknown>
  sluiceRelease(key: string, events: string, home: string): Promise<unknown>
}

function parseRecord(record: string): SessionHome {
  const space = record.indexOf(' ')
  const second = record.indexOf(' ', space + 1)
  const instanceId = record.slice(0, space)
  if (second < 0) return { instanceId, owner: record.slice(space + 1), state: undefined, record }
  let state: PeerState | undefined
  try {
    state = JSON.parse(record.slice(second + 1)) as PeerState
  } catch {
    state = undefined
  }
  return { instanceId, owner: record.slice(space + 1, second), state, record }
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
// Takes a session over: only if its record is still the one read and its home's heartbeat is gone.
const ADOPT_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', ARGV[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[3])
return 1
`
// Writes a record again unless another instance holds it now (ARGV[2]: this instance).
const CLAIM_SCRIPT = `
local record = redis.call('GET', KEYS[1])
if record and string.match(record, '^(%S+)') ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`
// Deletes a record and its session's events if the record is still the one given.
const DROP_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1], KEYS[2])
`
// Deletes a session's record and events unless the record names another home (ARGV[1]: this one).
const RELEASE_SCRIPT = `
local record = redis.call('GET', KEYS[1])
if record and string.match(record, '^(%S+)') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1], KEYS[2])
`

/**
 * Something the wheel calls back when its time has come: a stream's pacing (keepalive, send
 * deadline), an idle session's TTL.
 */
export interface WheelEntry {
  /** The tick the wheel holds it for, -1 when not held. Written by the wheel only. */
  wheelTick: number
  /**
   * Called at or after the time it was scheduled for (never before). It checks its own state,
   * since its due time may have moved later meanwhile, and returns when it is next due
   * (`performance.now()` ms), or undefined to leave the wheel.
   */
  onWheelDue(nowMs: number): number | undefined
}

export interface TimerWheelOptions {
  /** How coarse the wheel is: an entry is visited at most this long after it is due. */
  tickMs: number
  /** Slots, one per tick; an entry due further ahead than one turn is visited again next turn. */
  slots: number
}

/**
 * One timer for the process instead of one or two per stream and per session: entries sit in the
 * slot of the tick they are due at, and one unref'd interval visits the slot whose tick has come.
 *
 * Moving an entry's due time later (every frame a stream hands over) costs nothing: it is visited
 * at the old time, finds it is not due, and returns its new time. Only `schedule` with an earlier
 * time moves it. The interval runs while the wheel holds anything, and stops at the first tick
 * that finds it empty.
 */
export class TimerWheel {
  readonly #tickMs: number
  readonly #slots: (Set<WheelEntry> | undefined)[]
  readonly #originMs = performance.now()
  /** The last tick visited. */
  #tick = 0
  #size = 0
  #interval: Timer | undefined

  constructor(options: TimerWheelOptions) {
    this.#tickMs = options.tickMs
    this.#slots = new Array(options.slots).fill(undefined)
  }

  /** Entries held now. */
  get size(): number {
    return this.#size
  }

  /** Whether the interval is running (it stops at the first tick with nothing held). */
  get running(): boolean {
    return this.#interval !== undefined
  }

  /**
   * Holds `entry` until `dueMs` (performance.now() ms). An entry held for an earlier tick stays
   * there: it is visited then and says when it is next due.
   */
  schedule(entry: WheelEntry, dueMs: number): void {
    if (this.#interval === undefined) this.#start()
    const slots = this.#slots.length
    const tick = Math.min(
      Math.max(Math.ceil((dueMs - this.#originMs) / this.#tickMs), this.#tick + 1),
      this.#tick + slots,
    )
    if (entry.wheelTick >= 0) {
      if (entry.wheelTick <= tick) return
      this.#slots[entry.wheelTick % slots]?.delete(entry)
    } else {
      this.#size++
    }
    entry.wheelTick = tick
    const slot = tick % slots
    const set = this.#slots[slot]
    if (set) set.add(entry)
    else this.#slots[slot] = new Set([entry])
  }

  /** Lets go of `entry`; nothing if it is not held. Part of its owner's close path. */
  cancel(entry: WheelEntry): void {
    if (entry.wheelTick < 0) return
    this.#slots[entry.wheelTick % this.#slots.length]?.delete(entry)
    entry.wheelTick = -1
    this.#size--
  }

  #start(): void {
    this.#tick = Math.floor((performance.now() - this.#originMs) / this.#tickMs)
    this.#interval = setInterval(() => this.#advance(), this.#tickMs)
    this.#interval.unref()
  }

  /** Visits every tick that has come since the last visit (at most one turn of the wheel). */
  #advance(): void {
    const nowMs = performance.now()
    const target = Math.floor((nowMs - this.#originMs) / this.#tickMs)
    this.#tick = Math.max(this.#tick, target - this.#slots.length)
    while (this.#tick < target) this.#visit(++this.#tick, nowMs)
    if (this.#size === 0) {
      clearInterval(this.#interval)
      this.#interval = undefined
    }
  }

  #visit(tick: number, nowMs: number): void {
    const slot = tick % this.#slots.length
    const due = this.#slots[slot]
    if (!due) return
    // Taken out whole: what the callbacks schedule goes to fresh sets, never into this loop.
    this.#slots[slot] = undefined
    for (const entry of due) {
      // Cancelled or moved later by an earlier callback of this visit. (An entry for an earlier
      // tick is one a late catch-up skipped past: it is due.)
      if (entry.wheelTick < 0 || entry.wheelTick > tick) continue
      entry.wheelTick = -1
      this.#size--
      const next = entry.onWheelDue(nowMs)
      // The callback may have scheduled the entry itself (a frame handed over at once): the
      // earlier of the two times holds.
      if (next !== undefined) this.schedule(entry, next)
    }
  }
}

/**
 * The process's wheel: keepalives, send deadlines and idle TTLs of every server in it. A tenth
 * of a second is finer than any of them needs (the shortest allowed is 100 ms) and coarse enough
 * that a tick with nothing due costs nothing; 1,024 slots make a turn of 102 s.
 */
export const timerWheel = new TimerWheel({ tickMs: 100, slots: 1024 })

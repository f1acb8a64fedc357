import { invalidParams } from './errors.ts'

/**
 * Named registrations (tools, resources, templates, prompts) that can be added, removed, enabled
 * and disabled at run time. Each change calls `onChange` once (the owner sends list_changed).
 */
export class Catalog<T> {
  readonly #items = new Map<string, { value: T; enabled: boolean }>()
  #cache: T[] | undefined
  #enabledCount = 0
  /** Called after every change that alters what is listed. */
  onChange: (() => void) | undefined

  /** @returns false when the key is taken. */
  add(key: string, value: T): boolean {
    if (this.#items.has(key)) return false
    this.#items.set(key, { value, enabled: true })
    this.#enabledCount++
    this.#changed()
    return true
  }

  remove(key: string): boolean {
    const item = this.#items.get(key)
    if (!item) return false
    this.#items.delete(key)
    if (item.enabled) {
      this.#enabledCount--
      this.#changed()
    }
    return true
  }

  /** @returns false when nothing is registered under `key`. */
  setEnabled(key: string, enabled: boolean): boolean {
    const item = this.#items.get(key)
    if (!item) return false
    if (item.enabled !== enabled) {
      item.enabled = enabled
      this.#enabledCount += enabled ? 1 : -1
      this.#changed()
    }
    return true
  }

  /** The enabled registration under `key`. */
  get(key: string): T | undefined {
    const item = this.#items.get(key)
    return item?.enabled ? item.value : undefined
  }

  /** Whether `key` is registered at all, enabled or not. */
  registered(key: string): boolean {
    return this.#items.has(key)
  }

  /** Enabled registrations. */
  get size(): number {
    return this.#enabledCount
  }

  /** Enabled registrations in registration order; the same array until the next change. */
  values(): readonly T[] {
    if (!this.#cache) {
      const list: T[] = []
      for (const item of this.#items.values()) if (item.enabled) list.push(item.value)
      this.#cache = list
    }
    return this.#cache
  }

  #changed(): void {
    this.#cache = undefined
    this.onChange?.()
  }
}

/** Items per page of resources/list, resources/templates/list and prompts/list. */
export const PAGE_SIZE = 100

/**
 * One page of `items` from an opaque cursor (the spec's pagination); `nextCursor` when more follow.
 * @throws ProtocolError -32602 for a cursor sluice did not hand out.
 */
export function paginate<T>(
  items: readonly T[],
  cursor: unknown,
  pageSize = PAGE_SIZE,
): { page: T[]; nextCursor?: string } {
  let start = 0
  if (cursor !== undefined) {
    const offset = typeof cursor === 'string' ? decodeCursor(cursor) : undefined
    if (offset === undefined) throw invalidParams(`cursor ${JSON.stringify(cursor)} is not valid`)
    start = offset
  }
  const page = items.slice(start, start + pageSize)
  const next = start + pageSize
  return next < items.length ? { page, nextCursor: encodeCursor(next) } : { page }
}

function encodeCursor(offset: number): string {
  return btoa(`o:${offset}`)
}

function decodeCursor(cursor: string): number | undefined {
  try {
    const match = /^o:(\d{1,9})$/.exec(atob(cursor))
    return match ? Number(match[1]) : undefined
  } catch {
    return undefined
  }
}

import { withTimeout } from './pool.ts'

/** How to reach one session again from outside, whichever transport opened it. */
export type SessionRef =
  | { kind: 'sse'; postUrl: URL }
  | { kind: 'streamable'; base: URL; sessionId: string; protocolVersion: string }

/**
 * Whether the server still holds a session the load tester has left: a `ping` to it answered 2xx
 * (open) or 404 (gone). Any other answer, or none in time, is `undefined`: not known. Works on any
 * MCP server, with or without sluice's /metrics.
 */
export async function sessionStillOpen(
  ref: SessionRef,
  timeoutMs: number,
): Promise<boolean | undefined> {
  const ping = JSON.stringify({ jsonrpc: '2.0', id: 'sluice-loadtest-reap-check', method: 'ping' })
  const request =
    ref.kind === 'sse'
      ? fetch(ref.postUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: ping,
        })
      : fetch(new URL('/mcp', ref.base), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': ref.sessionId,
            'mcp-protocol-version': ref.protocolVersion,
          },
          body: ping,
        })
  try {
    const response = await withTimeout(request, timeoutMs, 'the reap check')
    // An answer on an SSE body may never end; the status is all this needs.
    await response.body?.cancel()
    if (response.status === 404) return false
    if (response.ok) return true
    return undefined
  } catch {
    return undefined
  }
}

/** Sessions the load tester left (politely or not), a bounded sample of them, for the reap check. */
export class AbandonedSessions {
  readonly #refs: SessionRef[] = []
  #seen = 0

  constructor(readonly limit: number) {}

  /** Keeps a uniform sample (reservoir sampling): phases that end first are not over-represented. */
  add(ref: SessionRef | undefined): void {
    if (!ref) return
    this.#seen++
    if (this.#refs.length < this.limit) {
      this.#refs.push(ref)
      return
    }
    const slot = Math.floor(Math.random() * this.#seen)
    if (slot < this.limit) this.#refs[slot] = ref
  }

  /** How many were left in all, sampled or not. */
  get seen(): number {
    return this.#seen
  }

  /** Takes the sample, leaving the collection empty for the next scenario. */
  drain(): SessionRef[] {
    this.#seen = 0
    return this.#refs.splice(0)
  }
}

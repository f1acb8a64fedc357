import { type Check, check, notMeasured } from './check.ts'
import { openClientSession, type TransportKind } from './client-session.ts'
import { type SessionRef, sessionStillOpen } from './session-check.ts'
import type { TargetSet } from './target.ts'

// Checks made from outside the server, as any MCP client could: they judge any MCP server.

/**
 * Asks the server about each session the scenario left (a ping: 404 means gone). Seen from
 * outside, so it judges servers without sluice's /metrics too.
 */
export async function reapCheck(
  abandoned: readonly SessionRef[],
  afterMs: number,
  timeoutMs: number,
): Promise<Check> {
  const name = 'sessions left by the load tester are closed by the server'
  if (abandoned.length === 0) {
    return notMeasured(name, 0, 'sessions', 'this scenario left no session it can name')
  }
  const answers: Array<boolean | undefined> = []
  for (let i = 0; i < abandoned.length; i += REAP_CHECK_CONCURRENCY) {
    const batch = abandoned.slice(i, i + REAP_CHECK_CONCURRENCY)
    answers.push(...(await Promise.all(batch.map((ref) => sessionStillOpen(ref, timeoutMs)))))
  }
  const known = answers.filter((a) => a !== undefined)
  if (known.length === 0) {
    return notMeasured(name, 0, 'sessions', 'the server answered neither 2xx nor 404 to a ping')
  }
  const open = known.filter((a) => a).length
  const result = check(name, open, 0, `of ${known.length} asked still open`)
  if (open > 0) {
    result.detail = `${open} of ${known.length} sessions asked still answer ${Math.round(afterMs / 1000)} s after the scenario (limit 0): the server has not reaped them`
  }
  return result
}

/**
 * A fresh session initializes and answers ping (which every MCP server must), on every instance:
 * with several, the session is created on one and pinged through the next when the load's POSTs
 * went to the other instance.
 */
export async function liveness(
  { members: targets, postTarget }: TargetSet,
  transport: TransportKind,
  timeoutMs: number,
): Promise<Check> {
  // 2026-07-28 removed ping and the handshake: a fresh client's server/discover stands for both.
  const method = transport === 'modern' ? 'server/discover' : 'ping'
  const name =
    transport === 'modern'
      ? 'liveness: a fresh 2026-07-28 client gets server/discover answered'
      : 'liveness: a fresh session initializes and answers ping'
  const limit = Math.max(timeoutMs, LIVENESS_TIMEOUT_MS)
  const started = performance.now()
  let at = ''
  try {
    for (const [i, target] of targets.entries()) {
      const next = postTarget === 'same' ? target : (targets[(i + 1) % targets.length] ?? target)
      at = targets.length > 1 ? ` (${target.base.host}, POSTs to ${next.base.host})` : ''
      const route = { streamBase: target.base, postBase: next.base }
      const session = await openClientSession(transport, route, undefined, limit)
      try {
        const reply = await session.request(method, {}, limit)
        if (!reply.message.result)
          throw new Error(`${method} answered ${JSON.stringify(reply.message)}`)
      } finally {
        session.end()
      }
    }
    // Let the server see the probe leave, so the next baseline is clean.
    await Bun.sleep(50)
    return check(name, performance.now() - started, limit, 'ms')
  } catch (err) {
    return {
      name,
      measured: true,
      passed: false,
      value: null,
      limit,
      unit: 'ms',
      detail: `failed${at}: ${(err as Error).message}`,
    }
  }
}

const LIVENESS_TIMEOUT_MS = 10_000
/** Reap-check pings in flight at once. */
const REAP_CHECK_CONCURRENCY = 50

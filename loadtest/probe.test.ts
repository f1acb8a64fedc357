import { afterEach, describe, expect, test } from 'bun:test'
import { ServerProbe, withoutInstanceLabel } from './probe.ts'
import type { Target } from './target.ts'

const servers: Array<{ stop(force?: boolean): unknown }> = []
afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true)
})

function serve(fetch: (request: Request) => Response): URL {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch })
  servers.push(server)
  return new URL(`http://127.0.0.1:${server.port}/`)
}

const target = (base: URL, pid?: number): Target => ({
  base,
  pid,
  managed: false,
  stop: async () => {},
})

describe('ServerProbe', () => {
  test('a server without /metrics: server-side counts are not available, and nothing throws', async () => {
    const base = serve(() => new Response('not found', { status: 404 }))
    const probe = new ServerProbe(target(base, process.pid))
    const snapshot = await probe.snapshot()
    expect(snapshot.sessionsOpen).toBeUndefined()
    expect(snapshot.streamsOpen).toBeUndefined()
    expect(probe.metricsUnavailable).toBe('GET /metrics answered 404')
    // With a pid, /proc still gives the process figures.
    expect(snapshot.rssBytes).toBeGreaterThan(0)
    expect(snapshot.fds).toBeGreaterThan(0)
    expect(await probe.cpuSeconds()).toBeGreaterThanOrEqual(0)
  })

  test('without a pid or process metrics, memory, fds and CPU are not available either', async () => {
    const base = serve(() => new Response('not found', { status: 404 }))
    const snapshot = await new ServerProbe(target(base)).snapshot()
    expect(snapshot).toMatchObject({ rssBytes: undefined, fds: undefined, cpuSeconds: undefined })
  })

  test('--metrics-url reads sluice metric names from another endpoint', async () => {
    const base = serve(() => new Response('not found', { status: 404 }))
    const prometheus = serve(
      () => new Response('# HELP x\nsluice_sessions_open 3\nsluice_sse_streams_open 2\n'),
    )
    const probe = new ServerProbe(target(base), new URL('/prom', prometheus).href)
    const snapshot = await probe.snapshot()
    expect(snapshot).toMatchObject({ sessionsOpen: 3, streamsOpen: 2 })
    expect(probe.metricsUnavailable).toBeUndefined()
  })

  test('several instances: every series is summed; one that does not answer empties the read', async () => {
    const a = serve(() => new Response('sluice_sessions_open 3\nsluice_streams_evicted_total 1\n'))
    const b = serve(() => new Response('sluice_sessions_open 4\nsluice_streams_evicted_total 5\n'))
    const probe = new ServerProbe([target(a), target(b)])
    const metrics = await probe.metrics()
    expect(metrics.get('sluice_sessions_open')).toBe(7)
    expect(metrics.get('sluice_streams_evicted_total')).toBe(6)
    const down = serve(() => new Response('gone', { status: 503 }))
    const partial = new ServerProbe([target(a), target(down)])
    expect((await partial.snapshot()).sessionsOpen).toBeUndefined()
    expect(partial.metricsUnavailable).toBe('GET /metrics answered 503')
  })

  test('the instance label of a cluster member is dropped, so that instances add up', async () => {
    expect(withoutInstanceLabel('sluice_sessions_open{instance="a1"}')).toBe('sluice_sessions_open')
    expect(withoutInstanceLabel('x_total{instance="a1",reason="idle_ttl"}')).toBe(
      'x_total{reason="idle_ttl"}',
    )
    expect(withoutInstanceLabel('x_total{reason="idle_ttl",instance="a1"}')).toBe(
      'x_total{reason="idle_ttl"}',
    )
    const a = serve(() => new Response('sluice_sessions_open{instance="a"} 2\n'))
    const b = serve(() => new Response('sluice_sessions_open{instance="b"} 5\n'))
    expect((await new ServerProbe([target(a), target(b)]).snapshot()).sessionsOpen).toBe(7)
  })

  test('several local instances: /proc figures are the sum over their pids', async () => {
    const base = serve(() => new Response('not found', { status: 404 }))
    const one = await new ServerProbe(target(base, process.pid)).snapshot()
    const two = await new ServerProbe([
      target(base, process.pid),
      target(base, process.pid),
    ]).snapshot()
    // The same process twice: about twice its figures (RSS moves a little between reads).
    expect(two.rssBytes).toBeGreaterThan((one.rssBytes ?? Number.NaN) * 1.5)
    expect(two.fds).toBeGreaterThan((one.fds ?? Number.NaN) * 1.5)
    const missing = await new ServerProbe([target(base, process.pid), target(base)]).snapshot()
    expect(missing.rssBytes).toBeUndefined()
  })
})

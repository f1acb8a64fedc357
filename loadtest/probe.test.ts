import { afterEach, describe, expect, test } from 'bun:test'
import { ServerProbe } from './probe.ts'
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
})

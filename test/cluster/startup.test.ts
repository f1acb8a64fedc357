import { describe, expect, test } from 'bun:test'
import { spawnSluice } from './cluster-helpers.ts'
import { freePort, startRedis } from './redis-server.ts'

/** sluice with `args`, its events until `listening`, and a way to stop it. */
async function linesUntilListening(args: string[]) {
  const { child, url, events } = await spawnSluice(args)
  const stop = async () => {
    child.kill('SIGTERM')
    await child.exited
  }
  return { events, url, stop }
}

describe('a lone instance with --redis-url', () => {
  test('says listening only once it has joined the cluster', async () => {
    const redis = await startRedis()
    const { url, stop } = await linesUntilListening(['--redis-url', redis.url])
    try {
      const metrics = await (await fetch(new URL('/metrics', url))).text()
      expect(metrics).toMatch(/^sluice_redis_connected(\{[^}]*\})? 1$/m)
    } finally {
      await stop()
      await redis.stop()
    }
  })

  test('that cannot reach Redis says so before it listens anyway', async () => {
    // Nothing listens on this port: the instance cannot join, waits its bound, and serves.
    const port = await freePort()
    const { events, url, stop } = await linesUntilListening([
      '--redis-url',
      `redis://127.0.0.1:${port}`,
    ])
    try {
      expect(events.indexOf('cluster_not_joined')).toBeGreaterThanOrEqual(0)
      expect(events.indexOf('cluster_not_joined')).toBeLessThan(events.indexOf('listening'))
      expect((await fetch(new URL('/health', url))).status).toBe(200)
    } finally {
      await stop()
    }
  }, 30_000)
})

import { describe, expect, test } from 'bun:test'
import { freePort, startRedis } from './redis-server.ts'

/** Runs `bun server/main.ts` with `args` and collects its log lines until `listening`. */
async function linesUntilListening(
  args: string[],
): Promise<{ events: string[]; url: URL; stop: () => Promise<void> }> {
  const child = Bun.spawn([process.execPath, 'server/main.ts', '--port', '0', ...args], {
    stdout: 'pipe',
    stderr: 'ignore',
  })
  const reader = child.stdout.getReader()
  const decoder = new TextDecoder()
  const events: string[] = []
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) throw new Error(`sluice exited before listening: ${text}`)
    text += decoder.decode(value, { stream: true })
    const lines = text.split('\n')
    text = lines.pop() ?? ''
    for (const line of lines) {
      const entry = JSON.parse(line) as { event: string; url?: string }
      events.push(entry.event)
      if (entry.event === 'listening') {
        reader.releaseLock()
        void child.stdout.pipeTo(new WritableStream())
        const stop = async () => {
          child.kill('SIGTERM')
          await child.exited
        }
        return { events, url: new URL(entry.url as string), stop }
      }
    }
  }
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

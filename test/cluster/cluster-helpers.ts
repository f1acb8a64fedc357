import type { Config } from '../../server/config.ts'
import type { SluiceServer } from '../../server/server.ts'
import { startServer } from '../helpers.ts'
import { type RedisProcess, startRedis } from './redis-server.ts'

export { waitFor } from './redis-server.ts'

/** A real redis-server and N sluice instances sharing it, each on its own port. */
export interface TestCluster extends AsyncDisposable {
  redis: RedisProcess
  instances: SluiceServer[]
}

/** Starts redis-server and `count` in-process instances joined to it (heartbeat written). */
export async function startCluster(
  count: number,
  overrides: Partial<Config> = {},
): Promise<TestCluster> {
  const redis = await startRedis()
  const instances: SluiceServer[] = []
  for (let i = 0; i < count; i++) {
    instances.push(startServer({ redisUrl: redis.url, instanceTtlMs: 1_500, ...overrides }))
  }
  await Promise.all(instances.map((s) => s.clusterReady()))
  return {
    redis,
    instances,
    [Symbol.asyncDispose]: async () => {
      await Promise.all(instances.map((s) => s.stop()))
      await redis.stop()
    },
  }
}

/** A fetch that sends every request to `target` instead of the host it names (a load balancer). */
export function fetchVia(target: URL): typeof fetch {
  const via = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input)
    url.host = target.host
    return fetch(url, init)
  }
  return via as typeof fetch
}

/** A `bun server/main.ts` child in the cluster; resolves once it logged its listening URL. */
export function spawnInstance(redisUrl: string, ttlMs: number, args: string[] = []) {
  return spawnSluice(['--redis-url', redisUrl, '--instance-ttl-ms', String(ttlMs), ...args])
}

/**
 * A `bun server/main.ts --port 0` child with `args`; resolves once it logged its listening URL,
 * with the events it logged until then, in order.
 */
export async function spawnSluice(args: string[]) {
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
        return { child, url: new URL(entry.url as string), events }
      }
    }
  }
}

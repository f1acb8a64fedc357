#!/usr/bin/env bun
/**
 * Which Redis client can carry sluice's cluster? Against a real redis-server that is killed and
 * restarted on the same port, for Bun's built-in client, node-redis (`redis`) and `ioredis`:
 * (a) does a subscriber get messages after the restart without re-subscribing by hand,
 * (b) does psubscribe deliver, (c) do commands work after the reconnect, (d) which events report
 * the reconnect. `bun bench/redis-client-probe.ts`; a client that is not installed is skipped
 * (PROBE_MODULES=/dir/node_modules looks there too).
 */
import { startRedis, waitFor } from '../test/cluster/redis-server.ts'

interface ProbeClient {
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>
  psubscribe(pattern: string, onMessage: (message: string) => void): Promise<void>
  publish(channel: string, message: string): Promise<unknown>
  set(key: string, value: string): Promise<unknown>
  get(key: string): Promise<string | null>
  close(): Promise<void>
}

interface Finding {
  client: string
  subscribeBeforeRestart: boolean
  psubscribeDelivers: boolean
  subscribeAfterRestart: boolean
  commandsAfterRestart: boolean
  events: string[]
  note?: string
}

async function load(name: string): Promise<unknown> {
  try {
    return await import(name)
  } catch {
    const dir = process.env.PROBE_MODULES
    if (!dir) return undefined
    try {
      return await import(`${dir}/${name}`)
    } catch {
      return undefined
    }
  }
}

type Factory = (url: string, events: string[]) => Promise<ProbeClient>

const factories: Record<string, () => Promise<Factory | undefined>> = {
  'Bun.redis (RedisClient)': async () => {
    const RedisClient = (Bun as unknown as { RedisClient?: new (url: string) => unknown })
      .RedisClient
    if (!RedisClient) return undefined
    return async (url, events) => {
      type C = {
        connect(): Promise<void>
        close(): void
        onconnect: (() => void) | null
        onclose: ((e: unknown) => void) | null
        subscribe(ch: string, cb: (m: string) => void): Promise<unknown>
        psubscribe?(p: string, cb: (m: string) => void): Promise<unknown>
        publish(ch: string, m: string): Promise<unknown>
        set(k: string, v: string): Promise<unknown>
        get(k: string): Promise<string | null>
      }
      const make = () => {
        const c = new RedisClient(url) as C
        c.onconnect = () => events.push('onconnect')
        c.onclose = () => events.push('onclose')
        return c
      }
      const cmd = make()
      const sub = make()
      await cmd.connect()
      await sub.connect()
      return {
        subscribe: async (ch, cb) => void (await sub.subscribe(ch, cb)),
        psubscribe: async (p, cb) => {
          if (!sub.psubscribe) throw new Error('no psubscribe method')
          await sub.psubscribe(p, cb)
        },
        publish: (ch, m) => cmd.publish(ch, m),
        set: (k, v) => cmd.set(k, v),
        get: (k) => cmd.get(k),
        close: async () => {
          cmd.close()
          sub.close()
        },
      }
    }
  },
  'redis (node-redis)': async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the probe drives clients whose typings it does not load
    const mod = (await load('redis')) as { createClient?: (o: unknown) => any } | undefined
    if (!mod?.createClient) return undefined
    const createClient = mod.createClient
    return async (url, events) => {
      const make = () => {
        const c = createClient({ url, socket: { reconnectStrategy: () => 100 } })
        for (const e of ['connect', 'ready', 'end', 'reconnecting']) c.on(e, () => events.push(e))
        c.on('error', () => events.push('error'))
        return c
      }
      const cmd = make()
      const sub = make()
      await cmd.connect()
      await sub.connect()
      return {
        subscribe: (ch, cb) => sub.subscribe(ch, cb),
        psubscribe: (p, cb) => sub.pSubscribe(p, cb),
        publish: (ch, m) => cmd.publish(ch, m),
        set: (k, v) => cmd.set(k, v),
        get: (k) => cmd.get(k),
        close: async () => {
          cmd.destroy()
          sub.destroy()
        },
      }
    }
  },
  ioredis: async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the probe drives clients whose typings it does not load
    const mod = (await load('ioredis')) as { default?: new (url: string, o: unknown) => any }
    const Redis = mod?.default
    if (!Redis) return undefined
    return async (url, events) => {
      const make = () => {
        const c = new Redis(url, { retryStrategy: () => 100, lazyConnect: true })
        for (const e of ['connect', 'ready', 'close', 'reconnecting', 'end']) {
          c.on(e, () => events.push(e))
        }
        c.on('error', () => events.push('error'))
        return c
      }
      const cmd = make()
      const sub = make()
      await cmd.connect()
      await sub.connect()
      const channels = new Map<string, (m: string) => void>()
      sub.on('message', (ch: string, m: string) => channels.get(ch)?.(m))
      sub.on('pmessage', (p: string, _ch: string, m: string) => channels.get(p)?.(m))
      return {
        subscribe: async (ch, cb) => {
          channels.set(ch, cb)
          await sub.subscribe(ch)
        },
        psubscribe: async (p, cb) => {
          channels.set(p, cb)
          await sub.psubscribe(p)
        },
        publish: (ch, m) => cmd.publish(ch, m),
        set: (k, v) => cmd.set(k, v),
        get: (k) => cmd.get(k),
        close: async () => {
          cmd.disconnect()
          sub.disconnect()
        },
      }
    }
  },
}

const WAIT_MS = 3_000

async function probe(name: string, factory: Factory): Promise<Finding> {
  const redis = await startRedis()
  const events: string[] = []
  const finding: Finding = {
    client: name,
    subscribeBeforeRestart: false,
    psubscribeDelivers: false,
    subscribeAfterRestart: false,
    commandsAfterRestart: false,
    events,
  }
  let client: ProbeClient | undefined
  try {
    client = await factory(redis.url, events)
    const got: string[] = []
    const pgot: string[] = []
    await client.subscribe('probe', (m) => got.push(m))
    try {
      await client.psubscribe('probe-p.*', (m) => pgot.push(m))
    } catch (err) {
      finding.note = `psubscribe: ${(err as Error).message}`
    }
    await client.publish('probe', 'before')
    await client.publish('probe-p.x', 'pattern')
    finding.subscribeBeforeRestart = await settles(() => got.includes('before'))
    finding.psubscribeDelivers = await settles(() => pgot.includes('pattern'))
    events.push('--- redis killed and restarted ---')
    await redis.kill()
    await redis.restart()
    const c = client
    finding.commandsAfterRestart = await settles(async () => {
      try {
        await withTimeout(c.set('probe-key', 'v'))
        return (await withTimeout(c.get('probe-key'))) === 'v'
      } catch {
        return false
      }
    })
    finding.subscribeAfterRestart = await settles(async () => {
      await withTimeout(c.publish('probe', 'after')).catch(() => undefined)
      return got.includes('after')
    })
  } catch (err) {
    finding.note = `${finding.note ?? ''} ${(err as Error).message}`.trim()
  } finally {
    await client?.close().catch(() => undefined)
    await redis.stop()
  }
  return finding
}

async function settles(check: () => boolean | Promise<boolean>): Promise<boolean> {
  try {
    await waitFor('probe', check, WAIT_MS)
    return true
  } catch {
    return false
  }
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    Bun.sleep(500).then(() => Promise.reject(new Error('command timed out'))),
  ])
}

const findings: Finding[] = []
for (const [name, make] of Object.entries(factories)) {
  const factory = await make()
  if (!factory) {
    console.log(`${name}: not installed, skipped`)
    continue
  }
  findings.push(await probe(name, factory))
}
for (const f of findings) {
  const yes = (b: boolean) => (b ? 'yes' : 'NO')
  console.log(
    `${f.client}: subscribe ${yes(f.subscribeBeforeRestart)}, psubscribe delivers ${yes(f.psubscribeDelivers)}, ` +
      `subscriber hears after restart ${yes(f.subscribeAfterRestart)}, commands after restart ${yes(f.commandsAfterRestart)}` +
      `${f.note ? ` (${f.note})` : ''}\n  events: ${dedupe(f.events).join(' ')}`,
  )
}
process.exit(0)

function dedupe(events: string[]): string[] {
  return events.filter((e, i) => e !== events[i - 1])
}

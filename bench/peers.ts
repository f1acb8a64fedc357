import { cpus } from 'node:os'
import { spawnServer, type Target } from '../loadtest/target.ts'
import type { TransportKind } from './rpc-client.ts'

/**
 * A transport as the bench compares it: each lane has sluice, its raw `Bun.serve` peer speaking
 * the same wire, and the SDK servers that speak it. Every ratio is taken within one lane.
 */
export type Lane = 'legacy' | 'streamable-sse' | 'streamable-json' | 'modern-json' | 'modern-sse'

export interface LaneInfo {
  lane: Lane
  transport: TransportKind
  title: string
  /** The idle held stream measured in this lane (once per stream kind), if any. */
  idleStream?: string
}

export const LANES: readonly LaneInfo[] = [
  { lane: 'legacy', transport: 'sse', title: 'legacy HTTP+SSE', idleStream: 'legacy session' },
  {
    lane: 'streamable-sse',
    transport: 'streamable',
    title: 'Streamable HTTP 2025, SSE replies',
    idleStream: '2025 GET stream',
  },
  { lane: 'streamable-json', transport: 'streamable', title: 'Streamable HTTP 2025, JSON replies' },
  {
    lane: 'modern-json',
    transport: 'modern',
    title: '2026-07-28 per request, JSON replies',
    idleStream: '2026 listen stream',
  },
  { lane: 'modern-sse', transport: 'modern', title: '2026-07-28 per request, SSE replies' },
]

export type Role = 'sluice' | 'raw' | 'sdk-v1' | 'sdk-v2'

/** A server the bench measures, and how to start it. */
export interface Peer {
  name: string
  lane: Lane
  role: Role
  runtime: 'bun' | 'node'
  /** Why this server holds no idle stream of its lane's kind, when it holds none. */
  noIdle?: string
  /** Starts it; `bunFlags` go to a Bun runtime before the script (`--cpu-prof-md`). */
  start(bunFlags?: readonly string[]): Promise<Target>
}

export const laneInfo = (lane: Lane): LaneInfo => LANES.find((l) => l.lane === lane)!

const here = (path: string) => new URL(path, import.meta.url).pathname
const node = () => Bun.which('node') ?? 'node'

/**
 * The core servers run on. With two cores or more, every server is pinned to the last one (and
 * the bench's client to the others, see main.ts), so that peers get the same CPU whatever else
 * the machine runs.
 */
export const SERVER_CORE = cpus().length >= 2 ? cpus().length - 1 : undefined

/** Starts a server script, pinned to SERVER_CORE when there is one. */
function pinned(
  entry: string,
  args: readonly string[],
  runtime = process.execPath,
  runtimeFlags: readonly string[] = [],
) {
  const command = [...runtimeFlags, entry, ...args]
  const taskset = Bun.which('taskset')
  if (SERVER_CORE === undefined || !taskset)
    return spawnServer(command[0]!, command.slice(1), runtime)
  // taskset execs the runtime: the PID the bench reads /proc of is the server's own.
  return spawnServer('-c', [String(SERVER_CORE), runtime, ...command], taskset)
}

/** Limits raised so that the bench measures speed, not the production caps. */
export const SLUICE_ARGS: readonly string[] = [
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--max-sessions',
  '10000000',
  '--max-queue-messages',
  '100000',
  '--max-calls-per-session',
  '100000',
  '--max-subscriptions',
  '100000',
]

const sluice = (lane: Lane, name: string, extra: string[] = []): Peer => ({
  name,
  lane,
  role: 'sluice',
  runtime: 'bun',
  start: (bunFlags) =>
    pinned(here('../server/main.ts'), [...SLUICE_ARGS, ...extra], process.execPath, bunFlags),
})

const raw = (lane: Lane, file: string, mode?: 'json' | 'sse'): Peer => ({
  name: `raw Bun.serve (${lane})`,
  lane,
  role: 'raw',
  runtime: 'bun',
  start: (bunFlags) =>
    pinned(here(file), mode ? ['--response-mode', mode] : [], process.execPath, bunFlags),
})

const sdkV2 = (lane: Lane, mode: 'auto' | 'sse'): Peer => ({
  name: `sdk-v2 createMcpHandler, Bun (${lane})`,
  lane,
  role: 'sdk-v2',
  runtime: 'bun',
  start: () => pinned(here('./peers/sdk-v2.ts'), ['--response-mode', mode]),
})

/** Every server, lane by lane: sluice first, then its raw peer, then the SDKs. */
export const PEERS: readonly Peer[] = [
  sluice('legacy', 'sluice (legacy)'),
  raw('legacy', './peers/raw-legacy.ts'),
  {
    name: 'sdk-v1 sse (express, Node)',
    lane: 'legacy',
    role: 'sdk-v1',
    runtime: 'node',
    start: () => pinned(here('./peers/sdk-sse.mjs'), [], node()),
  },
  sluice('streamable-sse', 'sluice (streamable-sse)'),
  raw('streamable-sse', './peers/raw-streamable.ts', 'sse'),
  {
    ...sdkV2('streamable-sse', 'auto'),
    noIdle: 'stateless for 2025 requests: GET is 405',
  },
  sluice('streamable-json', 'sluice (streamable-json)', ['--prefer-json']),
  raw('streamable-json', './peers/raw-streamable.ts', 'json'),
  {
    // enableJsonResponse: sessions, JSON replies, no standalone GET stream.
    name: 'sdk-v1 streamable (express, Node)',
    lane: 'streamable-json',
    role: 'sdk-v1',
    runtime: 'node',
    start: () => pinned(here('./peers/sdk-streamable.mjs'), [], node()),
  },
  sluice('modern-json', 'sluice (modern-json)'),
  raw('modern-json', './peers/raw-modern.ts', 'json'),
  sdkV2('modern-json', 'auto'),
  sluice('modern-sse', 'sluice (modern-sse)', ['--response-mode', 'sse']),
  raw('modern-sse', './peers/raw-modern.ts', 'sse'),
  sdkV2('modern-sse', 'sse'),
]

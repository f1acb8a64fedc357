import { spawnServer, type Target } from '../loadtest/target.ts'
import type { TransportKind } from './rpc-client.ts'

/** A server the bench measures, and how to start it. */
export interface Peer {
  name: string
  transport: TransportKind
  runtime: 'bun' | 'node'
  start(): Promise<Target>
}

const here = (path: string) => new URL(path, import.meta.url).pathname
const node = () => Bun.which('node') ?? 'node'

/** Limits raised so that the bench measures speed, not the production caps. */
const SLUICE_ARGS = [
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
]

export const PEERS: readonly Peer[] = [
  {
    name: 'sluice',
    transport: 'sse',
    runtime: 'bun',
    start: () => spawnServer(here('../server/main.ts'), SLUICE_ARGS),
  },
  {
    name: 'sluice (streamable)',
    transport: 'streamable',
    runtime: 'bun',
    start: () => spawnServer(here('../server/main.ts'), SLUICE_ARGS),
  },
  {
    name: 'sluice (modern)',
    transport: 'modern',
    runtime: 'bun',
    start: () => spawnServer(here('../server/main.ts'), SLUICE_ARGS),
  },
  {
    name: 'sdk-sse (express, Node)',
    transport: 'sse',
    runtime: 'node',
    start: () => spawnServer(here('./peers/sdk-sse.mjs'), [], node()),
  },
  {
    name: 'sdk-streamable (express, Node)',
    transport: 'streamable',
    runtime: 'node',
    start: () => spawnServer(here('./peers/sdk-streamable.mjs'), [], node()),
  },
  {
    name: 'sdk-v2 (createMcpHandler, Bun)',
    transport: 'modern',
    runtime: 'bun',
    start: () => spawnServer(here('./peers/sdk-v2.ts'), []),
  },
  {
    name: 'raw Bun.serve (ceiling)',
    transport: 'sse',
    runtime: 'bun',
    start: () => spawnServer(here('./peers/raw-bun.ts'), []),
  },
]

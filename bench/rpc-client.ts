import { openClientSession, type TransportKind } from '../loadtest/client-session.ts'

export type { TransportKind }

/** One MCP session the bench drives, whatever its transport. */
export interface RpcClient {
  /** Calls a tool; resolves with the round-trip latency in ms (POST sent to response received). */
  call(name: string, args: Record<string, unknown>): Promise<number>
  close(): void
}

const TIMEOUT_MS = 30_000

/** The load tester's client sessions (raw SSE for the legacy transport, fetch for /mcp). */
export async function openClient(kind: TransportKind, base: URL): Promise<RpcClient> {
  const session = await openClientSession(kind, base, undefined, TIMEOUT_MS)
  return {
    call: async (name, args) => {
      const reply = await session.request('tools/call', { name, arguments: args }, TIMEOUT_MS)
      if (reply.message.error) throw new Error(reply.message.error.message)
      return reply.latencyMs
    },
    close: () => session.end(),
  }
}

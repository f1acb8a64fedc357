import type { CallContext } from './context.ts'
import type { JsonRpcMessage, JsonRpcNotification, JsonRpcRequest } from './jsonrpc.ts'
import type { McpPeer } from './peer.ts'

/** A request handler. Undefined means "send nothing" (the request was cancelled). */
export type MethodHandler = (
  req: JsonRpcRequest,
  ctx: CallContext,
  peer: McpPeer,
) => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined

export type NotificationHandler = (note: JsonRpcNotification, peer: McpPeer) => void

/**
 * What a feature (tools, resources, prompts, completion, logging) plugs into the dispatcher: its
 * part of the `initialize` capabilities and the methods it answers. The dispatcher itself keeps
 * only the lifecycle: initialize, ping, cancellation.
 */
export interface McpFeature {
  /**
   * Merged into the server capabilities at each initialize, so they reflect what is registered
   * then. A feature that announces nothing to a session answers its methods there with -32601.
   */
  capabilities(): Record<string, unknown> | undefined
  readonly methods: ReadonlyMap<string, MethodHandler>
  readonly notifications?: ReadonlyMap<string, NotificationHandler>
}

/** The sessions a feature may notify (list_changed, resource updates); the composition root supplies it. */
export interface PeerDirectory {
  /** Initialized sessions that are still open. */
  peers(): Iterable<McpPeer>
}

/** Sends `message` on the standalone stream of every initialized session `to` accepts. */
export function broadcast(
  directory: PeerDirectory,
  message: JsonRpcMessage,
  to: (peer: McpPeer) => boolean = () => true,
): void {
  for (const peer of directory.peers()) if (to(peer)) peer.send(message)
}

/**
 * Whether the session was announced `listChanged` for `capability` (tools, resources, prompts)
 * at initialize: only those sessions expect its `notifications/<capability>/list_changed`.
 */
export function announcedListChanged(peer: McpPeer, capability: string): boolean {
  const announced = peer.state.serverCapabilities?.[capability] as
    | { listChanged?: unknown }
    | undefined
  return announced?.listChanged === true
}

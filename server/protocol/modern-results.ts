import type { JsonRpcMessage } from './jsonrpc.ts'
import { META } from './request-meta.ts'

/** A caching hint of MCP 2026-07-28 (`server/utilities/caching.mdx`). */
export interface CacheHint {
  ttlMs: number
  cacheScope: 'public' | 'private'
}

/** The caching hint of each cacheable method; one per feature, configurable. */
export type CachePolicy = Readonly<Record<CacheableMethod, CacheHint>>

export const CACHEABLE_METHODS = [
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
] as const
export type CacheableMethod = (typeof CACHEABLE_METHODS)[number]

/** One hint for every cacheable method. */
export function uniformCachePolicy(hint: CacheHint): CachePolicy {
  return Object.fromEntries(CACHEABLE_METHODS.map((m) => [m, hint])) as CachePolicy
}

/**
 * How a message of a 2026-07-28 request leaves: results carry `resultType` and the server's
 * identity in `_meta`, and cacheable ones their caching hint. Handlers stay era-blind; the era
 * decides this shape.
 */
export function modernShaper(
  method: string,
  serverInfo: { name: string; version: string },
  cache: CachePolicy,
): (message: JsonRpcMessage) => JsonRpcMessage {
  const hint = (cache as Readonly<Record<string, CacheHint | undefined>>)[method]
  return (message) => {
    if (!('result' in message)) return message
    const result: Record<string, unknown> = { resultType: 'complete', ...message.result }
    const meta = result._meta
    result._meta =
      typeof meta === 'object' && meta !== null
        ? { ...meta, [META.serverInfo]: serverInfo }
        : { [META.serverInfo]: serverInfo }
    if (hint && result.resultType === 'complete') {
      result.ttlMs ??= hint.ttlMs
      result.cacheScope ??= hint.cacheScope
    }
    // Every result sluice sends has just these three members: no copy of the message.
    return { jsonrpc: message.jsonrpc, id: message.id, result }
  }
}

import { invalidParams } from './errors.ts'

/** `_meta` keys of MCP 2026-07-28 (SEP-2575). */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const

/** What a 2026 request says about its client in `params._meta`. */
export interface RequestMeta {
  protocolVersion: string
  clientCapabilities: Record<string, unknown>
  clientInfo: { name: string; version: string } | undefined
  logLevel: string | undefined
}

/** The protocol version a message's `_meta` names, if any (for classifying its era). */
export function metaProtocolVersion(params: Record<string, unknown> | undefined): unknown {
  const meta = params?._meta
  return isObject(meta) ? meta[META.protocolVersion] : undefined
}

/**
 * Reads the per-request metadata every 2026 request carries.
 * @throws ProtocolError -32602 when `_meta`, its protocol version or its client capabilities are
 * missing or malformed (clientInfo is a SHOULD, so it may be absent).
 */
export function readRequestMeta(params: Record<string, unknown> | undefined): RequestMeta {
  const meta = params?._meta
  if (!isObject(meta)) throw invalidParams('a 2026-07-28 request needs params._meta')
  const protocolVersion = meta[META.protocolVersion]
  if (typeof protocolVersion !== 'string') {
    throw invalidParams(`_meta needs "${META.protocolVersion}" (a string)`)
  }
  const clientCapabilities = meta[META.clientCapabilities]
  if (!isObject(clientCapabilities)) {
    throw invalidParams(`_meta needs "${META.clientCapabilities}" (an object)`)
  }
  const info = meta[META.clientInfo]
  const clientInfo =
    isObject(info) && typeof info.name === 'string'
      ? { name: info.name, version: String(info.version ?? '') }
      : undefined
  const level = meta[META.logLevel]
  return {
    protocolVersion,
    clientCapabilities,
    clientInfo,
    logLevel: typeof level === 'string' ? level : undefined,
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

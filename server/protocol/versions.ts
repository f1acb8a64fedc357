/** MCP revisions sluice speaks with a session and an initialize handshake (legacy era), oldest first. */
export const SUPPORTED_PROTOCOL_VERSIONS = [
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
] as const
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number]

/** MCP revisions sluice speaks statelessly, with the version in every request's `_meta` (modern era). */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const
export type ModernProtocolVersion = (typeof MODERN_PROTOCOL_VERSIONS)[number]

/** A revision of either era. */
export type AnyProtocolVersion = ProtocolVersion | ModernProtocolVersion

export const LATEST_PROTOCOL_VERSION: ProtocolVersion = '2025-11-25'

/** Every revision sluice speaks, newest first: what `server/discover` and -32022 errors list. */
export const ALL_PROTOCOL_VERSIONS: readonly AnyProtocolVersion[] = [
  ...SUPPORTED_PROTOCOL_VERSIONS,
  ...MODERN_PROTOCOL_VERSIONS,
].reverse()

export function isSupportedVersion(version: string): version is ProtocolVersion {
  return (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version)
}

export function isModernVersion(version: string): version is ModernProtocolVersion {
  return (MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(version)
}

/** The client's version when sluice speaks it, else the newest sluice speaks (MCP lifecycle rules). */
export function negotiateVersion(requested: string): ProtocolVersion {
  return isSupportedVersion(requested) ? requested : LATEST_PROTOCOL_VERSION
}

/** Whether `version` is `since` or later; revisions are ISO dates, so they compare as strings. */
export function isAtLeast(version: AnyProtocolVersion, since: AnyProtocolVersion): boolean {
  return version >= since
}

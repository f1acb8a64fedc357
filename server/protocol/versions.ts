/** MCP revisions sluice speaks, oldest first. */
export const SUPPORTED_PROTOCOL_VERSIONS = [
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
] as const
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number]

export const LATEST_PROTOCOL_VERSION: ProtocolVersion = '2025-11-25'

export function isSupportedVersion(version: string): version is ProtocolVersion {
  return (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version)
}

/** The client's version when sluice speaks it, else the newest sluice speaks (MCP lifecycle rules). */
export function negotiateVersion(requested: string): ProtocolVersion {
  return isSupportedVersion(requested) ? requested : LATEST_PROTOCOL_VERSION
}

/** Whether `version` is `since` or later; revisions are ISO dates, so they compare as strings. */
export function isAtLeast(version: ProtocolVersion, since: ProtocolVersion): boolean {
  return version >= since
}

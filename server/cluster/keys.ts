/** The Redis key and channel names of one cluster (every instance sharing a Redis URL). */
const PREFIX = 'sluice:'

/** Heartbeat of an instance: exists while it lives (a TTL it refreshes). */
export const instanceKey = (instanceId: string) => `${PREFIX}instance:${instanceId}`
/** Directory record of a 2025 session: `<home instance id> <owner>[ <negotiated state JSON>]`. */
export const sessionKey = (sessionId: string) => `${PREFIX}session:${sessionId}`
/** Events a 2025 session's streams sent (a capped Redis Stream), for a takeover's replay. */
export const eventsKey = (sessionId: string) => `${PREFIX}events:${sessionId}`
/** Where relayed requests and their answers reach an instance. */
export const relayChannel = (instanceId: string) => `${PREFIX}relay:${instanceId}`
/** Change events (list changes, resource updates) heard by every instance. */
export const CHANGES_CHANNEL = `${PREFIX}changes`

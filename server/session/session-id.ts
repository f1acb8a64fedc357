import { randomBytes } from 'node:crypto'

/** What a session id may look like; anything else is refused before any lookup. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

/** A new 128-bit, cryptographically random, URL-safe session id (22 base64url characters). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url')
}

export function isWellFormedSessionId(id: string): boolean {
  return SESSION_ID_PATTERN.test(id)
}

import { isModernVersion } from '../protocol/versions.ts'
import { isWellFormedSessionId } from '../session/session-id.ts'

/**
 * The 2025 or legacy session a request names, if any: `Mcp-Session-Id` on /mcp (POST, GET,
 * DELETE; a POST that names 2026-07-28 ignores it), `?sessionId=` on POST /message, and
 * `?session_id=`/`?sessionId=` on POST /mcp (the direct tool-call flow). A malformed id names
 * nothing (the local handler answers it 400).
 */
export function sessionTarget(request: Request, url: URL): string | undefined {
  let id: string | null = null
  if (url.pathname === '/mcp') {
    if (request.method === 'POST') {
      id = url.searchParams.get('session_id') ?? url.searchParams.get('sessionId')
      if (id === null) {
        const version = request.headers.get('mcp-protocol-version')?.trim()
        if (version && isModernVersion(version)) return undefined
      }
    }
    id ??= request.headers.get('mcp-session-id')
  } else if (url.pathname === '/message' && request.method === 'POST') {
    id = url.searchParams.get('sessionId')
  }
  return id !== null && isWellFormedSessionId(id) ? id : undefined
}

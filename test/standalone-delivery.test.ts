import { describe, expect, test } from 'bun:test'
import { readMetric, startServer } from './helpers.ts'
import { initialize, mcp } from './streamable-helpers.ts'

describe('messages for a standalone stream nobody opened', () => {
  test('notifications that do not fit are dropped; the session is not closed for them', async () => {
    await using server = startServer({ maxQueueMessages: 16 })
    const { sessionId } = await initialize(server.url)
    const session = server.sessions.get(sessionId)
    const note = {
      jsonrpc: '2.0' as const,
      method: 'notifications/resources/updated',
      params: { uri: 'x://1' },
    }
    let queued = 0
    for (let i = 0; i < 300; i++) if (session?.send(note)) queued++
    expect(queued).toBe(16)
    expect(session?.isClosed).toBe(false)
    expect(await readMetric(server.url, 'sluice_sessions_closed_total{reason="queue_full"}')).toBe(
      0,
    )
    expect(await readMetric(server.url, 'sluice_messages_dropped_total')).toBe(284)
    const ping = await mcp(server.url, sessionId, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    expect(ping.status).toBe(200)
  })

  test('a JSON-reply client that never opens the GET stream can call a logging tool without end', async () => {
    // Three log messages a call: without a reader for them, 16 fit the standalone stream.
    await using server = startServer({
      profile: 'conformance',
      preferJson: true,
      maxQueueMessages: 16,
    })
    const { sessionId } = await initialize(server.url)
    for (let id = 1; id <= 30; id++) {
      const response = await mcp(server.url, sessionId, {
        method: 'POST',
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'test_tool_with_logging', arguments: {} },
        }),
      })
      expect({ id, status: response.status }).toEqual({ id, status: 200 })
      expect(((await response.json()) as { id: number }).id).toBe(id)
    }
    expect(server.sessions.get(sessionId)?.isClosed).toBe(false)
  }, 30_000)

  test('a request from the server is refused at once when no stream could carry it', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const session = server.sessions.get(sessionId)
    const request = { jsonrpc: '2.0' as const, id: 's1', method: 'roots/list' }
    expect(session?.send(request)).toBe(false)
    expect(session?.unsentMessages).toBe(0)
  })
})

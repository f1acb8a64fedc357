import { describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import {
  INITIALIZE,
  openLegacyStream,
  post,
  readMetric,
  SseReader,
  startServer,
  waitFor,
} from './helpers.ts'
import { openStalledReader } from './raw-http.ts'
import { initialize, mcp, sleepOnStream } from './streamable-helpers.ts'

const MiB = 1024 * 1024
const echo = (id: number, message: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message } },
})

/** A raw POST whose answer the client never reads; resolves once the server closes the socket. */
function postUnread(
  base: URL,
  sessionId: string,
  body: unknown,
  accept: string,
  version = '2025-11-25',
) {
  const text = JSON.stringify(body)
  const socket: Socket = connect(Number(base.port), base.hostname)
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(
    `POST /mcp HTTP/1.1\r\nHost: ${base.host}\r\ncontent-type: application/json\r\naccept: ${accept}\r\nmcp-session-id: ${sessionId}\r\nmcp-protocol-version: ${version}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  )
  socket.pause()
  return { socket, closed }
}

describe('replies nobody reads', () => {
  test('a JSON reply left unread is cut at the send deadline and counted', async () => {
    await using server = startServer({
      sendDeadlineMs: 1000,
      maxBodyBytes: 16 * MiB,
      maxQueueBytes: 64 * MiB,
    })
    const { sessionId } = await initialize(server.url)
    // Larger than what the socket buffers of a client that never reads take (about 4 MiB here).
    const unread = [1, 2, 3].map((id) =>
      postUnread(server.url, sessionId, echo(id, 'x'.repeat(8 * MiB)), 'application/json'),
    )
    // Until its reader takes it, a large reply is held against the buffer budget.
    await waitFor(
      'the unread replies to be charged',
      async () => (await readMetric(server.url, 'sluice_buffered_bytes')) > 8 * MiB,
      20_000,
    )
    await waitFor(
      'the abandoned replies to be counted',
      async () => {
        return (await readMetric(server.url, 'sluice_replies_abandoned_total')) === 3
      },
      20_000,
    )
    // The server closed each connection; the client sees it once it looks.
    for (const u of unread) u.socket.resume()
    await Promise.all(unread.map((u) => u.closed))
    expect(server.sessions.get(sessionId)?.streamCount).toBe(1)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBe(0)
  }, 30_000)

  test('a JSON reply whose client left during its call is counted as abandoned', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const sleep = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'sleep', arguments: { seconds: 0.5 } },
    }
    const left = postUnread(server.url, sessionId, sleep, 'application/json')
    await waitFor('the call to run', () => server.sessions.get(sessionId)?.calls.size === 1)
    left.socket.destroy()
    await left.closed
    // The call runs on without its client; its reply, once there, has nobody to go to.
    await waitFor(
      'the reply to be counted',
      async () => (await readMetric(server.url, 'sluice_replies_abandoned_total')) === 1,
    )
    expect(server.sessions.get(sessionId)?.calls.size).toBe(0)
    // A reply that was read is not counted.
    const read = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ ...sleep, id: 8 }),
      headers: { accept: 'application/json' },
    })
    expect(((await read.json()) as { id: number }).id).toBe(8)
    expect(await readMetric(server.url, 'sluice_replies_abandoned_total')).toBe(1)
  }, 15_000)

  test('an SSE reply stream whose reader stalls is evicted alone at the send deadline', async () => {
    await using server = startServer({
      sendDeadlineMs: 1000,
      maxBodyBytes: 16 * MiB,
      maxQueueBytes: 64 * MiB,
      maxBufferedBytes: 128 * MiB,
    })
    const { sessionId } = await initialize(server.url, '2025-03-26')
    // More than socket buffers take: the rest waits in the stream until the deadline evicts it.
    const batch = Array.from({ length: 12 }, (_, i) => echo(i + 1, 'y'.repeat(MiB)))
    const unread = postUnread(server.url, sessionId, batch, 'text/event-stream', '2025-03-26')
    await waitFor(
      'the eviction to be counted',
      async () =>
        (await readMetric(server.url, 'sluice_streams_evicted_total{reason="send_deadline"}')) ===
        1,
      20_000,
    )
    // The server cuts the connection; the client sees it once it looks.
    unread.socket.resume()
    await unread.closed
    // The session lives on; what the stream held is released.
    const session = server.sessions.get(sessionId)
    expect(session?.isClosed).toBe(false)
    expect(session?.streamCount).toBe(1)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBe(0)
    expect(await readMetric(server.url, 'sluice_sse_streams_open')).toBe(0)
  }, 30_000)
})

describe('replay windows', () => {
  test('read response streams are kept only while the replay bound has room, then released', async () => {
    const replayBytes = 600 * 1024
    await using server = startServer({ replayBytes })
    const { sessionId } = await initialize(server.url)
    for (let id = 1; id <= 17; id++) {
      const response = await mcp(server.url, sessionId, {
        method: 'POST',
        headers: { accept: 'text/event-stream' },
        body: JSON.stringify(echo(id, 'z'.repeat(256 * 1024))),
      })
      await response.text()
    }
    const session = server.sessions.get(sessionId)
    // Two 256 KiB answers fit the bound: their streams stay for replay, the 15 before are gone.
    await waitFor('the readers to leave', () => server.sessions.streamsOpen === 0)
    expect(session?.streamCount).toBe(3)
    expect(session?.heldBytes).toBeLessThanOrEqual(replayBytes)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBe(session?.heldBytes ?? -1)
  })

  test('a result handed over just before the connection broke is replayed on resumption', async () => {
    await using server = startServer()
    const { sessionId } = await initialize(server.url)
    const { controller, post } = await sleepOnStream(server.url, sessionId, 0.2, 'r')
    const reader = new SseReader(post)
    const priming = await reader.next()
    // The reader stops reading; the result is handed over meanwhile; then the connection breaks.
    const session = server.sessions.get(sessionId)
    await waitFor('the result to be handed over', () => session?.isRouted('r') === false)
    controller.abort()
    await waitFor('the reader to leave', () => server.sessions.streamsOpen === 0)
    const resumed = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': priming?.id ?? '' },
    })
    expect(resumed.status).toBe(200)
    const replay = new SseReader(resumed)
    expect(JSON.parse((await replay.nextEvent())?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 'r',
      result: { content: [{ type: 'text', text: 'slept 0.2s' }] },
    })
  })

  test('what a session keeps for replay is bounded by --replay-bytes', async () => {
    const replayBytes = 600 * 1024
    await using server = startServer({ replayBytes })
    const { sessionId } = await initialize(server.url, '2025-03-26')
    // Each POST's reader takes a 256 KiB echo, then leaves while a sleep keeps the stream open:
    // the echo stays for replay.
    for (let id = 1; id <= 5; id++) {
      const controller = new AbortController()
      const response = await mcp(server.url, sessionId, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2025-03-26' },
        body: JSON.stringify([
          echo(id * 10, 'r'.repeat(256 * 1024)),
          {
            jsonrpc: '2.0',
            id: id * 10 + 1,
            method: 'tools/call',
            params: { name: 'sleep', arguments: { seconds: 30 } },
          },
        ]),
        signal: controller.signal,
      })
      const reader = new SseReader(response)
      expect((await reader.nextEvent())?.data).toContain(`"id":${id * 10}`)
      controller.abort()
    }
    const session = server.sessions.get(sessionId)
    await waitFor(
      'the readers to leave',
      async () => (await readMetric(server.url, 'sluice_sse_streams_open')) === 0,
    )
    expect(session?.heldBytes).toBeGreaterThan(0)
    expect(session?.heldBytes).toBeLessThanOrEqual(replayBytes)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBe(session?.heldBytes ?? -1)
    // The newest replay survives: a reconnect still gets the last stream's echo.
    const last = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: {
        accept: 'text/event-stream',
        'last-event-id': '6_0',
        'mcp-protocol-version': '2025-03-26',
      },
    })
    expect(last.status).toBe(200)
    const replayed = new SseReader(last)
    expect((await replayed.nextEvent())?.data).toContain('"id":50')
    await replayed.cancel()
  })
})

describe('one buffer budget for the whole server', () => {
  test('past its high-water mark new sessions and requests get 503 with Retry-After', async () => {
    await using server = startServer({ maxBufferedBytes: 1 * MiB })
    const { sessionId } = await initialize(server.url)
    const session = server.sessions.get(sessionId)
    // Notifications for a standalone stream nobody has opened wait in it, charged to the budget.
    const note = {
      jsonrpc: '2.0' as const,
      method: 'notifications/message',
      params: { data: 'n'.repeat(100 * 1024) },
    }
    for (let i = 0; i < 10; i++) session?.send(note)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBeGreaterThan(0.9 * MiB)
    const refusedSession = await initialize(server.url)
    expect(refusedSession.response.status).toBe(503)
    expect(refusedSession.response.headers.get('retry-after')).toBe('5')
    expect(await refusedSession.response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32000,
        message: `Service Unavailable: sluice holds its buffer budget of ${MiB} bytes; retry later`,
      },
    })
    const legacy = await fetch(new URL('/sse', server.url))
    expect(legacy.status).toBe(503)
    const request = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    expect(request.status).toBe(503)
    expect(await readMetric(server.url, 'sluice_limit_refusals_total{limit="memory_budget"}')).toBe(
      3,
    )
    // Ending the session gives its bytes back and the server takes work again.
    expect((await mcp(server.url, sessionId, { method: 'DELETE' })).status).toBe(200)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBe(0)
    expect((await initialize(server.url)).response.status).toBe(200)
  })

  test('over the budget the session holding the most is evicted, and memory is reclaimed', async () => {
    await using server = startServer({
      maxBufferedBytes: 2 * MiB,
      maxQueueBytes: 64 * MiB,
      maxQueueMessages: 100_000,
      sendDeadlineMs: 600_000,
    })
    const small = await openLegacyStream(server.url)
    await post(small.postUrl, INITIALIZE)
    // A reader that stopped reading while large results pile up.
    const { socket, postUrl, closed } = await openStalledReader(server.url)
    await post(postUrl, INITIALIZE)
    for (let id = 1; id <= 400; id++) {
      if ((await post(postUrl, echo(id, 'b'.repeat(256 * 1024)))).status !== 202) break
      await Bun.sleep(0)
    }
    await waitFor('the eviction', async () => {
      return (
        (await readMetric(server.url, 'sluice_sessions_closed_total{reason="memory_budget"}')) === 1
      )
    })
    socket.resume()
    await closed
    // The small session was not the offender and lives on.
    expect(server.sessions.get(small.sessionId)?.isClosed).toBe(false)
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBeLessThanOrEqual(2 * MiB)
    await waitFor('a reclaim after the large free', async () => {
      return (await readMetric(server.url, 'sluice_memory_reclaims_total')) >= 1
    })
  }, 30_000)
})

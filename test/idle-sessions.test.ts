import { describe, expect, test } from 'bun:test'
import { timerWheel } from '../server/session/timer-wheel.ts'
import { openLegacyStream, readMetric, SseReader, startServer, waitFor } from './helpers.ts'
import { post as modernPost } from './modern-helpers.ts'
import { ACCEPT_BOTH, initialize, mcp } from './streamable-helpers.ts'

describe('idle sessions and the timer wheel', () => {
  test('a Streamable session nobody uses expires after its idle TTL; its id then gets 404', async () => {
    await using server = startServer({ sessionTtlMs: 1000 })
    const { sessionId } = await initialize(server.url)
    expect(server.sessions.size).toBe(1)
    await waitFor('the idle TTL to close the session', () => server.sessions.size === 0)
    expect(await readMetric(server.url, 'sluice_sessions_closed_total{reason="idle_ttl"}')).toBe(1)
    const after = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    expect(after.status).toBe(404)
  }, 15_000)

  test('a session is not idle while its stream is read, and expires a TTL after its reader left', async () => {
    await using server = startServer({ sessionTtlMs: 1000, keepaliveMs: 400 })
    const { sessionId } = await initialize(server.url)
    const controller = new AbortController()
    const get = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    })
    expect(get.status).toBe(200)
    const reader = new SseReader(get)
    // The keepalives are the clock: four of them take longer than the TTL.
    let keepalives = 0
    while (keepalives < 4) {
      const frame = await reader.next()
      if (frame === undefined) throw new Error('the stream ended')
      if (frame.comment === 'keepalive') keepalives++
    }
    expect(server.sessions.size).toBe(1)
    controller.abort()
    await waitFor('the reader to detach', () => server.sessions.streamsOpen === 0)
    expect(server.sessions.size).toBe(1)
    await waitFor('the idle TTL to close the session', () => server.sessions.size === 0)
    expect(await readMetric(server.url, 'sluice_sessions_closed_total{reason="idle_ttl"}')).toBe(1)
  }, 15_000)

  test('what a closed session held on the timer wheel is let go at once', async () => {
    const before = timerWheel.size
    await using server = startServer()
    const streams = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const controller = new AbortController()
        const stream = await openLegacyStream(server.url, '/sse', controller.signal)
        return { ...stream, controller }
      }),
    )
    // One pacer per open stream; a legacy session has no idle TTL while its stream is open.
    expect(timerWheel.size).toBe(before + 5)
    expect(await readMetric(server.url, 'sluice_timer_wheel_entries')).toBe(before + 5)
    for (const { controller } of streams) controller.abort()
    await waitFor('the sessions to close', () => server.sessions.size === 0)
    expect(timerWheel.size).toBe(before)
  })

  test('the reply to initialize, sent as one SSE body, can be resumed until the next request of its session, then is not kept', async () => {
    await using server = startServer()
    const { response, sessionId } = await initialize(server.url, '2025-11-25', {
      accept: ACCEPT_BOTH,
    })
    const reply = new SseReader(response)
    expect((await reply.next())?.id).toBe('1_0')
    const answer = await reply.nextEvent()
    expect(answer?.id).toBe('1_1')
    expect(JSON.parse(answer?.data ?? '').result.protocolVersion).toBe('2025-11-25')
    const session = server.sessions.get(sessionId)
    // A client whose connection broke after the priming event resumes the reply with its id
    // (the session id came in the response's headers).
    const resumed = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': '1_0' },
    })
    expect(resumed.status).toBe(200)
    const again = new SseReader(resumed)
    const replayed = await again.nextEvent()
    expect(replayed?.id).toBe('1_1')
    expect(JSON.parse(replayed?.data ?? '').result.protocolVersion).toBe('2025-11-25')
    expect(await again.nextEvent()).toBeUndefined()
    // The client goes on: its next request releases the reply, and the idle session holds its
    // standalone stream only.
    const initialized = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
    expect(initialized.status).toBe(202)
    await waitFor('the resumed reader to go', () => session?.streamCount === 1)
    expect(server.sessions.budget.usedBytes).toBe(0)
    const late = await mcp(server.url, sessionId, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'last-event-id': '1_0' },
    })
    expect(late.status).toBe(404)
    // Other replies are kept for replay as before, numbered on from the initialize reply.
    const ping = await mcp(server.url, sessionId, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    const pong = new SseReader(ping)
    expect((await pong.next())?.id).toBe('2_0')
    expect((await pong.nextEvent())?.id).toBe('2_1')
    expect(session?.streamCount).toBe(2)
  })

  test('a client leaving a quiet held stream releases it at once, on every transport', async () => {
    await using server = startServer({ keepaliveMs: 200 })
    const legacy = new AbortController()
    const { reader: legacyReader } = await openLegacyStream(server.url, '/sse', legacy.signal)
    const { sessionId } = await initialize(server.url)
    const get = new AbortController()
    const getReader = new SseReader(
      await mcp(server.url, sessionId, {
        method: 'GET',
        headers: { accept: 'text/event-stream' },
        signal: get.signal,
      }),
    )
    const listen = new AbortController()
    const listenReader = new SseReader(
      await modernPost(server.url, 9, 'subscriptions/listen', {}, {}, listen.signal),
    )
    expect(server.sessions.streamsOpen).toBe(2)
    expect(server.requests.subscriptionsOpen).toBe(1)
    // Each is parked on its quiet stream, between keepalives, when its client leaves.
    for (const reader of [legacyReader, getReader, listenReader]) {
      while ((await reader.next())?.comment !== 'keepalive') {}
    }
    for (const controller of [legacy, get, listen]) controller.abort()
    await waitFor('the streams to be released', () => server.sessions.streamsOpen === 0)
    await waitFor('the listen stream to close', () => server.requests.subscriptionsOpen === 0)
    // The legacy session ends with its stream; the 2025 session waits for a reconnect.
    expect(server.sessions.size).toBe(1)
    expect(server.sessions.get(sessionId)?.isClosed).toBe(false)
    expect(server.sessions.budget.usedBytes).toBe(0)
  })
})

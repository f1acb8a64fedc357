import { describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import {
  INITIALIZE,
  openInitializedStream,
  openLegacyStream,
  post,
  postToolCall,
  readMetric,
  sessionNotFoundBody,
  startServer,
  waitFor,
} from './helpers.ts'

const OPEN = 'sluice_sessions_open'
const STREAMS = 'sluice_sse_streams_open'

/** Opens a raw TCP connection to the server and sends a GET for `path`. */
async function rawGet(base: URL, path: string): Promise<Socket> {
  const socket = connect(Number(base.port), base.hostname)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${base.host}\r\nAccept: text/event-stream\r\n\r\n`)
  return socket
}

async function expectAllClosed(base: URL): Promise<void> {
  await waitFor('every session to close', async () => (await readMetric(base, OPEN)) === 0)
  expect(await readMetric(base, STREAMS)).toBe(0)
}

describe('a client that aborts is cleaned up at once', () => {
  test('a reset before the first byte leaves no session open', async () => {
    await using server = startServer()
    const sockets = await Promise.all(Array.from({ length: 20 }, () => rawGet(server.url, '/sse')))
    for (const socket of sockets) socket.resetAndDestroy()
    await expectAllClosed(server.url)
    const opened = await readMetric(server.url, 'sluice_sessions_opened_total')
    expect(
      await readMetric(server.url, 'sluice_sessions_closed_total{reason="client_abort"}'),
    ).toBe(opened)
  })

  test('an abort right after the endpoint frame leaves no session open', async () => {
    await using server = startServer()
    const controller = new AbortController()
    await openLegacyStream(server.url, '/sse', controller.signal)
    expect(await readMetric(server.url, OPEN)).toBe(1)
    controller.abort()
    await expectAllClosed(server.url)
  })

  test('a reset right after the endpoint frame leaves no session open', async () => {
    await using server = startServer()
    const socket = await rawGet(server.url, '/sse')
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('event: endpoint')) resolve()
      })
    })
    socket.resetAndDestroy()
    await expectAllClosed(server.url)
  })

  test('an abort during a sleep call cancels the call and closes the session', async () => {
    await using server = startServer()
    const controller = new AbortController()
    const { postUrl, sessionId } = await openInitializedStream(server.url, controller.signal)
    const session = server.sessions.get(sessionId)
    await postToolCall(postUrl, 1, 'sleep', { seconds: 30 })
    await waitFor('the sleep call to start', () => session?.calls.size === 1)
    controller.abort()
    await expectAllClosed(server.url)
    expect(session?.calls.size).toBe(0)
    expect(session?.signal.aborted).toBe(true)
    await waitFor(
      'the sleep call to end as cancelled',
      async () =>
        (await readMetric(
          server.url,
          'sluice_tool_calls_total{outcome="cancelled",tool="sleep"}',
        ).catch(() => 0)) === 1,
    )
  })

  test('a session whose stream was aborted answers 404 afterwards', async () => {
    await using server = startServer()
    const controller = new AbortController()
    const { postUrl, sessionId } = await openLegacyStream(server.url, '/sse', controller.signal)
    controller.abort()
    await expectAllClosed(server.url)
    const response = await post(postUrl, INITIALIZE)
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual(sessionNotFoundBody(sessionId))
  })
})

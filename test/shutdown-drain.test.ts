import { expect, test } from 'bun:test'
import { SseReader, startServer, waitFor } from './helpers.ts'
import { initialize, sleepAsJson, sleepOnStream } from './streamable-helpers.ts'

test('a POST stream its client left does not hold the drain', async () => {
  // A drain deadline far past the test's own bound: waiting for the abandoned stream would fail.
  await using server = startServer({ drainTimeoutMs: 120_000 })
  const { sessionId } = await initialize(server.url)
  const { controller, post } = await sleepOnStream(server.url, sessionId, 30)
  const reader = new SseReader(post)
  await reader.next()
  controller.abort()
  await waitFor('the reader to leave', () => server.sessions.streamsOpen === 0)
  // Nobody can come back for the call's answer once the listener is closed: the drain does not
  // wait for it, and reports it undelivered.
  expect(await server.shutdown()).toBe(1)
  expect(server.metrics.shutdownUndelivered.get({ kind: 'call' })).toBe(1)
  expect(server.sessions.size).toBe(0)
}, 20_000)

test('a JSON reply whose client left does not hold the drain', async () => {
  await using server = startServer({ drainTimeoutMs: 120_000 })
  const { sessionId } = await initialize(server.url)
  const controller = new AbortController()
  const pending = sleepAsJson(server.url, sessionId, 30, 1, controller.signal).catch(
    () => undefined,
  )
  await waitFor('the call to start', () => server.sessions.pendingCalls() === 1)
  controller.abort()
  await pending
  await waitFor('the client to be gone', () => server.sessions.reachableCalls() === 0)
  expect(await server.shutdown()).toBe(1)
  expect(server.metrics.shutdownUndelivered.get({ kind: 'call' })).toBe(1)
}, 20_000)

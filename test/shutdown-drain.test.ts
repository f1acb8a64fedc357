import { expect, test } from 'bun:test'
import { SseReader, startServer, waitFor } from './helpers.ts'
import { initialize, sleepOnStream } from './streamable-helpers.ts'

test('a POST stream its client left does not hold the drain: calls finish, then shutdown ends', async () => {
  // A drain deadline far past the test's own bound: waiting for the abandoned stream would fail.
  await using server = startServer({ drainTimeoutMs: 120_000 })
  const { sessionId } = await initialize(server.url)
  const { controller, post } = await sleepOnStream(server.url, sessionId, 0.2)
  const reader = new SseReader(post)
  await reader.next()
  controller.abort()
  await waitFor('the reader to leave', () => server.sessions.streamsOpen === 0)
  // The call runs on (leaving is not a cancellation); its answer, which nobody came back for, is
  // reported undelivered once the drain ends.
  expect(await server.shutdown()).toBe(1)
  expect(server.metrics.shutdownUndelivered.get({ kind: 'queued' })).toBe(1)
  expect(server.sessions.size).toBe(0)
}, 20_000)

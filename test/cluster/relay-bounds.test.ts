import { afterEach, describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { initialize, mcp } from '../streamable-helpers.ts'
import { startCluster, type TestCluster, waitFor } from './cluster-helpers.ts'

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.[Symbol.asyncDispose]()
  cluster = undefined
})

const CHUNK = 'x'.repeat(64 * 1024)
const MESSAGES = 400

describe('what a relaying instance holds for a client that stops reading', () => {
  test('is bounded by --max-queue-bytes: the relay ends and the home releases the stream', async () => {
    cluster = await startCluster(2, { maxQueueBytes: 1024 * 1024 })
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    let sent = 0
    a.tool('flood', { description: 'Logs 25 MiB.', input: Type.Object({}) }, async (_args, ctx) => {
      for (; sent < MESSAGES && !ctx.signal.aborted; sent++) {
        ctx.log('info', CHUNK)
        await Bun.sleep(5)
      }
      return 'done'
    })
    const { sessionId } = await initialize(a.url)
    const controller = new AbortController()
    // The answer is a stream that the client never reads past its head.
    const response = await mcp(b.url, sessionId, {
      method: 'POST',
      headers: { accept: 'text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'flood', arguments: {} },
      }),
      signal: controller.signal,
    })
    expect(response.status).toBe(200)
    // Held, never read: a client that stopped reading (a dropped Response would be collected,
    // and its connection closed).
    const reader = response.body?.getReader()
    const lost = () =>
      b.metrics.registry.render().includes('sluice_relays_lost_total{reason="buffer_full"} 1')
    await waitFor('the relay to end at its byte bound', lost, 20_000)
    // The home's stream for that request is released: the abort reached it.
    await waitFor('the stream on A to close', () => a.sessions.streamsOpen === 0, 20_000)
    expect(sent).toBeLessThan(MESSAGES)
    expect(a.metrics.registry.render()).toContain(
      'sluice_sessions_closed_total{reason="queue_full"} 0',
    )
    await reader?.cancel()
    controller.abort()
  }, 30_000)
})

describe('what relaying instances hold together', () => {
  test('is charged to --max-buffered-bytes: past it the relay ends, and the charge comes back to 0', async () => {
    // One relay may hold 8 MiB, but the instance as a whole only 1 MiB.
    cluster = await startCluster(2, { maxQueueBytes: 8 * 1024 * 1024, maxBufferedBytes: 1 << 20 })
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    let sent = 0
    a.tool('flood', { description: 'Logs 25 MiB.', input: Type.Object({}) }, async (_args, ctx) => {
      for (; sent < MESSAGES && !ctx.signal.aborted; sent++) {
        ctx.log('info', CHUNK)
        await Bun.sleep(5)
      }
      return 'done'
    })
    const { sessionId } = await initialize(a.url)
    const controller = new AbortController()
    const response = await mcp(b.url, sessionId, {
      method: 'POST',
      headers: { accept: 'text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'flood', arguments: {} },
      }),
      signal: controller.signal,
    })
    expect(response.status).toBe(200)
    const reader = response.body?.getReader()
    const lost = () =>
      b.metrics.registry.render().includes('sluice_relays_lost_total{reason="memory_budget"} 1')
    await waitFor('the relay to end at the instance budget', lost, 20_000)
    await waitFor('the stream on A to close', () => a.sessions.streamsOpen === 0, 20_000)
    expect(sent).toBeLessThan(MESSAGES)
    expect(b.sessions.budget.usedBytes).toBe(0)
    await reader?.cancel()
    controller.abort()
  }, 30_000)
})

describe('a relayed answer its client stops reading, within the byte bounds', () => {
  test('ends at --send-deadline-ms: the relay ends, the home stops, the charge comes back to 0', async () => {
    // Room for the whole answer: only the deadline can end the relay.
    cluster = await startCluster(2, { maxQueueBytes: 64 * 1024 * 1024, sendDeadlineMs: 500 })
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    let sent = 0
    const release = Promise.withResolvers<void>()
    a.tool('flood', { description: 'Logs 25 MiB.', input: Type.Object({}) }, async (_args, ctx) => {
      for (; sent < MESSAGES && !ctx.signal.aborted; sent++) {
        ctx.log('info', CHUNK)
        await Bun.sleep(5)
      }
      // Then runs on, its stream open (a client that stops reading does not cancel the call).
      await release.promise
      return 'done'
    })
    const { sessionId } = await initialize(a.url)
    const controller = new AbortController()
    const response = await mcp(b.url, sessionId, {
      method: 'POST',
      headers: { accept: 'text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'flood', arguments: {} },
      }),
      signal: controller.signal,
    })
    expect(response.status).toBe(200)
    const reader = response.body?.getReader()
    const lost = () =>
      b.metrics.registry.render().includes('sluice_relays_lost_total{reason="send_deadline"} 1')
    await waitFor('the relay to end at its send deadline', lost, 20_000)
    // The home stops serving the relay while the call runs on.
    await waitFor('the stream on A to close', () => a.sessions.streamsOpen === 0, 20_000)
    expect(b.metrics.registry.render()).not.toContain('reason="buffer_full"')
    await waitFor('the charge to come back to 0', () => b.sessions.budget.usedBytes === 0)
    expect(a.sessions.pendingCalls()).toBe(1)
    release.resolve()
    await reader?.cancel()
    controller.abort()
  }, 30_000)
})

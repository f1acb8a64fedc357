import { describe, expect, test } from 'bun:test'
import type { SluiceServer } from '../server/server.ts'
import { readMetric, SseReader, startServer, waitFor } from './helpers.ts'
import { post } from './modern-helpers.ts'

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId'
const SERVER_INFO = { 'io.modelcontextprotocol/serverInfo': { name: 'sluice', version: '0.1.0' } }
/** Far more frames than any stream below may carry: a bound on the read loop, never reached. */
const MAX_FRAMES = 100_000

interface Message {
  jsonrpc?: string
  method?: string
  id?: number
  params?: { uri?: string; _meta?: Record<string, unknown> }
  result?: unknown
}

/** Opens a listen stream and reads its acknowledgement. */
async function listen(server: SluiceServer, id: number, notifications: Record<string, unknown>) {
  const response = await post(server.url, id, 'subscriptions/listen', { notifications })
  const reader = new SseReader(response)
  const ack = JSON.parse((await reader.nextEvent())?.data ?? '') as Message
  expect(ack.method).toBe('notifications/subscriptions/acknowledged')
  return reader
}

/** Every message left on a stream, up to its end. */
async function readToEnd(reader: SseReader): Promise<Message[]> {
  const messages: Message[] = []
  for (let i = 0; i < MAX_FRAMES; i++) {
    const event = await reader.nextEvent()
    if (!event) return messages
    messages.push(JSON.parse(event.data ?? '') as Message)
  }
  throw new Error(`more than ${MAX_FRAMES} frames on one listen stream`)
}

/** The response that ends a listen stream gracefully. */
const finalResponse = (id: number) => ({
  jsonrpc: '2.0',
  id,
  result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID]: id, ...SERVER_INFO } },
})

/**
 * Publishes `times` tool-list changes on the change bus, synchronously, as the tools feature does
 * once per tick in which tools changed (so no reader can take anything in between).
 */
function churnTools(server: SluiceServer, times: number): void {
  for (let i = 0; i < times; i++) server.changes.publish({ kind: 'toolsListChanged' })
}

describe('subscriptions/listen coalescing', () => {
  test('a burst of 10,000 tool changes reaches a listen stream coalesced, and it stays open', async () => {
    await using server = startServer()
    const reader = await listen(server, 1, { toolsListChanged: true })
    churnTools(server, 10_000)
    // Still open: the graceful end of shutdown reaches it, after what it queued.
    server.requests.endSubscriptions()
    const messages = await readToEnd(reader)
    expect(messages.at(-1)).toEqual(finalResponse(1))
    const notes = messages.slice(0, -1)
    // One may be handed to the parked reader at once; every later change coalesces into one.
    expect(notes.length).toBeGreaterThanOrEqual(1)
    expect(notes.length).toBeLessThanOrEqual(2)
    for (const note of notes) {
      expect(note).toEqual({
        jsonrpc: '2.0',
        method: 'notifications/tools/list_changed',
        params: { _meta: { [SUBSCRIPTION_ID]: 1 } },
      })
    }
    const queueFull = 'sluice_stateless_requests_closed_total{reason="queue_full"}'
    expect(await readMetric(server.url, queueFull)).toBe(0)
    await waitFor('the listen stream to close', () => server.requests.subscriptionsOpen === 0)
  })

  test('coalesces per stream, per list kind and per URI across many listen streams', async () => {
    await using server = startServer()
    const streams = 50
    const readers: SseReader[] = []
    for (let id = 1; id <= streams; id++) {
      const filter = { toolsListChanged: true, resourceSubscriptions: ['test://a', 'test://b'] }
      readers.push(await listen(server, id, filter))
    }
    for (let i = 0; i < 1_000; i++) {
      churnTools(server, 1)
      server.notifyResourceUpdated('test://a')
      server.notifyResourceUpdated('test://b')
      server.notifyResourceUpdated('test://unwatched')
    }
    server.requests.endSubscriptions()
    const all = await Promise.all(readers.map(readToEnd))
    all.forEach((messages, index) => {
      const id = index + 1
      expect(messages.at(-1)).toEqual(finalResponse(id))
      const notes = messages.slice(0, -1)
      const count = (method: string, uri?: string) =>
        notes.filter((m) => m.method === method && m.params?.uri === uri).length
      const tools = count('notifications/tools/list_changed')
      const a = count('notifications/resources/updated', 'test://a')
      const b = count('notifications/resources/updated', 'test://b')
      expect(tools + a + b).toBe(notes.length)
      for (const n of [tools, a, b]) {
        expect(n).toBeGreaterThanOrEqual(1)
        expect(n).toBeLessThanOrEqual(2)
      }
      const note = notes.find((m) => m.params?.uri === 'test://b')
      expect(note).toEqual({
        jsonrpc: '2.0',
        method: 'notifications/resources/updated',
        params: { _meta: { [SUBSCRIPTION_ID]: id }, uri: 'test://b' },
      })
    })
    await waitFor('the listen streams to close', () => server.requests.subscriptionsOpen === 0)
    expect(server.sessions.budget.usedBytes).toBe(0)
  })

  test('a listen stream whose queue fills ends with the response to its request', async () => {
    await using server = startServer({ maxQueueMessages: 4 })
    const uris = Array.from({ length: 20 }, (_, i) => `test://r${i}`)
    const reader = await listen(server, 7, { resourceSubscriptions: uris })
    for (const uri of uris) server.notifyResourceUpdated(uri)
    const messages = await readToEnd(reader)
    expect(messages.at(-1)).toEqual(finalResponse(7))
    const updates = messages.slice(0, -1)
    expect(updates.length).toBeGreaterThanOrEqual(1)
    // Delivered in order, none twice, none after the response.
    expect(updates.map((m) => m.params?.uri)).toEqual(uris.slice(0, updates.length))
    expect(await readMetric(server.url, 'sluice_listen_queue_full_total')).toBe(1)
    await waitFor('the listen stream to close', () => server.requests.subscriptionsOpen === 0)
    expect(server.sessions.budget.usedBytes).toBe(0)
  })
})

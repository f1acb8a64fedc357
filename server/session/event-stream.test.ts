import { describe, expect, test } from 'bun:test'
import { EventStream, KEEPALIVE } from './event-stream.ts'

const stream = (maxMessages = 10, maxBytes = 1_000, replayEvents = 0) =>
  new EventStream(1, { maxMessages, maxBytes, replayEvents })

describe('EventStream', () => {
  test('refuses a message past its count bound', () => {
    const s = stream(2)
    expect([s.push('a'), s.push('b'), s.push('c')]).toEqual(['queued', 'queued', 'full'])
    expect(s.unsent).toBe(2)
  })

  test('refuses a message past its byte bound, and frees bytes as events are taken', () => {
    const s = stream(100, 10)
    expect([s.push('12345'), s.push('12345'), s.push('1')]).toEqual(['queued', 'queued', 'full'])
    expect(s.take()).toEqual({ seq: 1, json: '12345', bytes: 5 })
    expect(s.push('1')).toBe('queued')
  })

  test('hands a message straight to a parked reader', async () => {
    const s = stream()
    const waiting = s.wait()
    expect(s.push('m')).toBe('queued')
    expect(await waiting).toEqual({ seq: 1, json: 'm', bytes: 1 })
    expect(s.unsent).toBe(0)
  })

  test('wakes a parked reader with null when closed, and drops what was unsent', async () => {
    const s = stream()
    const waiting = s.wait()
    expect(s.close()).toBe(0)
    expect(await waiting).toBeNull()

    const other = stream()
    other.push('a')
    other.push('b')
    expect(other.close()).toBe(2)
    expect(await other.wait()).toBeNull()
    expect(other.push('c')).toBe('closed')
  })

  test('offers a keepalive only to a parked reader', async () => {
    const s = stream()
    expect(s.offerKeepalive()).toBe(false)
    const waiting = s.wait()
    expect(s.offerKeepalive()).toBe(true)
    expect(await waiting).toBe(KEEPALIVE)
  })

  test('after end(), a reader gets the rest and then null', async () => {
    const s = stream()
    s.push('last')
    s.end()
    expect(s.finished).toBe(false)
    expect(await s.wait()).toEqual({ seq: 1, json: 'last', bytes: 4 })
    expect(await s.wait()).toBeNull()
    expect(s.finished).toBe(true)
  })

  test('rewind replays what followed an event id, within its replay window', () => {
    const s = stream(10, 1_000, 2)
    for (const m of ['a', 'b', 'c', 'd']) s.push(m)
    for (let i = 0; i < 4; i++) s.take()
    expect(s.rewind(3)).toBe(true)
    expect([s.take(), s.take()]).toEqual([{ seq: 4, json: 'd', bytes: 1 }, undefined])
    // Event 1 has left the two-event window: replay starts where the window does.
    expect(s.rewind(1)).toBe(true)
    expect([s.take()?.seq, s.take()?.seq, s.take()]).toEqual([3, 4, undefined])
    expect(s.rewind(9)).toBe(false)
  })

  test('keeps nothing once sent when it has no replay window', () => {
    const s = stream()
    s.push('a')
    s.take()
    expect(s.rewind(0)).toBe(true)
    expect(s.take()).toBeUndefined()
  })

  test('counts what it holds in UTF-8 bytes, as sent', () => {
    const s = stream(100, 10)
    expect(s.push('日本')).toBe('queued')
    expect(s.heldBytes).toBe(6)
    expect(s.push('語語')).toBe('full')
  })
})

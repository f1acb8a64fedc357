import { describe, expect, test } from 'bun:test'
import { KEEPALIVE, OutboundQueue } from './outbound-queue.ts'

describe('OutboundQueue', () => {
  test('refuses a message past its count bound', () => {
    const queue = new OutboundQueue(2, 1_000)
    expect([queue.push('a'), queue.push('b'), queue.push('c')]).toEqual([
      'queued',
      'queued',
      'full',
    ])
    expect(queue.length).toBe(2)
  })

  test('refuses a message past its byte bound', () => {
    const queue = new OutboundQueue(100, 10)
    expect([queue.push('12345'), queue.push('12345'), queue.push('1')]).toEqual([
      'queued',
      'queued',
      'full',
    ])
    expect(queue.bytes).toBe(10)
    queue.take()
    expect(queue.bytes).toBe(5)
  })

  test('hands a message straight to a parked reader', async () => {
    const queue = new OutboundQueue(1, 100)
    const waiting = queue.wait()
    expect(queue.push('m')).toBe('queued')
    expect(await waiting).toBe('m')
    expect(queue.length).toBe(0)
  })

  test('wakes a parked reader with null when closed, and drops what was queued', async () => {
    const queue = new OutboundQueue(10, 100)
    const waiting = queue.wait()
    expect(queue.close()).toBe(0)
    expect(await waiting).toBeNull()

    const other = new OutboundQueue(10, 100)
    other.push('a')
    other.push('b')
    expect(other.close()).toBe(2)
    expect(await other.wait()).toBeNull()
    expect(other.push('c')).toBe('closed')
  })

  test('offers a keepalive only to a parked reader', async () => {
    const queue = new OutboundQueue(10, 100)
    expect(queue.offerKeepalive()).toBe(false)
    const waiting = queue.wait()
    expect(queue.offerKeepalive()).toBe(true)
    expect(await waiting).toBe(KEEPALIVE)
  })
})

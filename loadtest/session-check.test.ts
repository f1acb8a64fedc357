import { describe, expect, test } from 'bun:test'
import { AbandonedSessions, type SessionRef } from './session-check.ts'

const ref = (i: number): SessionRef => ({ kind: 'sse', postUrl: new URL(`http://x/m?s=${i}`) })

describe('AbandonedSessions', () => {
  test('keeps at most its limit, counts every one, and samples late arrivals too', () => {
    const abandoned = new AbandonedSessions(100)
    for (let i = 0; i < 10_000; i++) abandoned.add(ref(i))
    abandoned.add(undefined)
    expect(abandoned.seen).toBe(10_000)
    const sample = abandoned.drain()
    expect(sample).toHaveLength(100)
    const late = sample.filter(
      (r) => r.kind === 'sse' && Number(r.postUrl.searchParams.get('s')) >= 5_000,
    )
    // Uniform: about half come from the second half; all 100 from the first would be biased.
    expect(late.length).toBeGreaterThan(20)
    expect(abandoned.drain()).toEqual([])
    expect(abandoned.seen).toBe(0)
  })
})

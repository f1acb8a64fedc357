import { describe, expect, test } from 'bun:test'
import { Counter } from './metrics.ts'

describe('Counter', () => {
  test('counts one-label and many-label sets in one series each, labels escaped', () => {
    const counter = new Counter('sluice_test_total', 'Test.')
    counter.inc({ reason: 'complete' })
    counter.inc({ reason: 'complete' }, 2)
    counter.inc({ reason: 'a"b\\c' })
    counter.inc({ reason: 'x', kind: 'y' })
    counter.inc({ kind: 'y', reason: 'x' })
    counter.inc()
    expect(counter.get({ reason: 'complete' })).toBe(3)
    expect(counter.get({ kind: 'y', reason: 'x' })).toBe(2)
    expect(counter.render().split('\n')).toEqual([
      '# HELP sluice_test_total Test.',
      '# TYPE sluice_test_total counter',
      'sluice_test_total{reason="complete"} 3',
      'sluice_test_total{reason="a\\"b\\\\c"} 1',
      'sluice_test_total{kind="y",reason="x"} 2',
      'sluice_test_total 1',
    ])
  })

  test('a value with "=" is not mistaken for another label', () => {
    const counter = new Counter('sluice_test_total', 'Test.')
    counter.inc({ a: 'b=c' })
    counter.inc({ 'a=b': 'c' })
    expect(counter.get({ a: 'b=c' })).toBe(1)
    expect(counter.get({ 'a=b': 'c' })).toBe(1)
  })
})

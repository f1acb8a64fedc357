import { describe, expect, test } from 'bun:test'
import { Catalog, paginate } from './catalog.ts'

describe('Catalog', () => {
  test('adds, disables, enables and removes, telling its owner once per change', () => {
    const catalog = new Catalog<string>()
    let changes = 0
    catalog.onChange = () => changes++
    expect(catalog.add('a', 'A')).toBe(true)
    expect(catalog.add('a', 'again')).toBe(false)
    catalog.add('b', 'B')
    expect(catalog.values()).toEqual(['A', 'B'])
    expect(catalog.setEnabled('a', false)).toBe(true)
    expect(catalog.setEnabled('a', false)).toBe(true)
    expect(catalog.values()).toEqual(['B'])
    expect(catalog.get('a')).toBeUndefined()
    expect(catalog.size).toBe(1)
    catalog.setEnabled('a', true)
    expect(catalog.remove('b')).toBe(true)
    expect(catalog.remove('b')).toBe(false)
    expect(catalog.values()).toEqual(['A'])
    expect(changes).toBe(5)
  })

  test('prototype names are plain keys', () => {
    const catalog = new Catalog<string>()
    expect(catalog.get('constructor')).toBeUndefined()
    expect(catalog.get('__proto__')).toBeUndefined()
  })
})

describe('paginate', () => {
  test('walks pages with opaque cursors', () => {
    const items = Array.from({ length: 5 }, (_, i) => i)
    const first = paginate(items, undefined, 2)
    expect(first.page).toEqual([0, 1])
    const second = paginate(items, first.nextCursor, 2)
    expect(second.page).toEqual([2, 3])
    const last = paginate(items, second.nextCursor, 2)
    expect(last).toEqual({ page: [4] })
  })

  test('refuses a cursor it did not hand out with -32602', () => {
    expect(() => paginate([1], 'bogus')).toThrow(expect.objectContaining({ code: -32602 }))
    expect(() => paginate([1], 3)).toThrow(expect.objectContaining({ code: -32602 }))
  })
})

import { expect, test } from 'bun:test'
import { UriTemplate } from './uri-template.ts'

test('matches one segment per {var} and the rest for {+var}, decoding values', () => {
  const t = new UriTemplate('test://template/{id}/data')
  expect(t.variables).toEqual(['id'])
  expect(t.match('test://template/a%20b/data')).toEqual(new Map([['id', 'a b']]))
  expect(t.match('test://template/a/b/data')).toBeUndefined()
  expect(t.match('test://template/1/data.json')).toBeUndefined()
  const files = new UriTemplate('file:///{+path}')
  expect(files.match('file:///src/main.ts')).toEqual(new Map([['path', 'src/main.ts']]))
})

test('a greedy variable takes the middle; the variables around it are anchored by literals', () => {
  const docs = new UriTemplate('docs://{+section}/{page}.md')
  expect(docs.match('docs://a/b/c.md')).toEqual(
    new Map([
      ['section', 'a/b'],
      ['page', 'c'],
    ]),
  )
  expect(docs.match('docs://a/b/c.txt')).toBeUndefined()
  const pair = new UriTemplate('pair://{a}-{b}/{c}')
  expect(pair.match('pair://x-y/z')).toEqual(
    new Map([
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'z'],
    ]),
  )
  expect(pair.match('pair://x-y/z/w')).toBeUndefined()
  expect(new UriTemplate('fixed://here').match('fixed://here')).toEqual(new Map())
})

test('refuses templates that only a backtracking matcher could serve', () => {
  expect(() => new UriTemplate('docs://{+section}/{+page}.md')).toThrow(
    'at most one {+var} or {#var} per template; this one has 2',
  )
  expect(() => new UriTemplate('x://{a}{b}')).toThrow(
    'variables {a} and {b} need a literal between them',
  )
})

test('a long URI that does not match is refused in one scan', () => {
  const t = new UriTemplate('docs://{+section}/{page}.md')
  // With a backtracking (.*) per variable this took seconds; the scan is linear in the URI.
  expect(t.match(`docs://${'/'.repeat(1 << 20)}x`)).toBeUndefined()
  expect(t.match(`docs://${'a/'.repeat(1 << 18)}p.md`)?.get('page')).toBe('p')
})

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

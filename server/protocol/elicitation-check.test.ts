import { expect, test } from 'bun:test'
import { checkElicitedContent } from './elicitation-check.ts'

const schema = {
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    score: { type: 'number' },
    ok: { type: 'boolean' },
    status: { type: 'string', enum: ['a', 'b'] },
    titled: { type: 'string', oneOf: [{ const: 'v1', title: 'One' }] },
    tags: { type: 'array', items: { anyOf: [{ const: 'x' }, { const: 'y' }] } },
  },
  required: ['name'],
}

test('accepts an answer that fits the flat form schema', () => {
  expect(
    checkElicitedContent(schema, {
      name: 'Ada',
      age: 36,
      score: 9.5,
      ok: true,
      status: 'b',
      titled: 'v1',
      tags: ['x', 'y'],
    }),
  ).toBeUndefined()
})

test('names what does not fit', () => {
  expect(checkElicitedContent(schema, {})).toBe('"name" is required')
  expect(checkElicitedContent(schema, { name: 1 })).toBe('"name" must be a string')
  expect(checkElicitedContent(schema, { name: 'a', age: 1.5 })).toBe('"age" must be an integer')
  expect(checkElicitedContent(schema, { name: 'a', status: 'c' })).toBe(
    '"status" is not one of the allowed values',
  )
  expect(checkElicitedContent(schema, { name: 'a', tags: ['z'] })).toBe(
    '"tags" has a value that is not allowed',
  )
  expect(checkElicitedContent(schema, { name: 'a', extra: 1 })).toBe('"extra" was not asked for')
  expect(checkElicitedContent(schema, { name: 'a', constructor: 1 })).toBe(
    '"constructor" was not asked for',
  )
})

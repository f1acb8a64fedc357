import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { registerBuiltinTools } from './builtin.ts'
import { ToolInputError, ToolRegistrationError, UnknownToolError } from './errors.ts'
import { ToolRegistry } from './registry.ts'

const refused = () => Promise.reject(new Error('no client'))
const ctx = {
  signal: new AbortController().signal,
  clientCapabilities: {},
  sessionId: 's',
  requestId: 1,
  progress: () => {},
  log: () => {},
  closeStream: () => false,
  elicit: refused,
  sample: refused,
  listRoots: refused,
}

describe('ToolRegistry', () => {
  test('publishes the TypeBox schema as inputSchema', () => {
    const tools = new ToolRegistry().tool(
      'greet',
      { description: 'Greets.', input: Type.Object({ name: Type.String() }) },
      ({ name }) => `hello ${name}`,
    )
    expect(tools.list()).toEqual([
      {
        name: 'greet',
        description: 'Greets.',
        inputSchema: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' } },
        },
      },
    ])
  })

  test('validates arguments with the same schema before the handler runs', async () => {
    let ran = false
    const tools = new ToolRegistry().tool(
      'greet',
      { description: 'Greets.', input: Type.Object({ name: Type.String() }) },
      () => {
        ran = true
        return 'x'
      },
    )
    await expect(tools.call('greet', { name: 3 }, ctx)).rejects.toBeInstanceOf(ToolInputError)
    await expect(tools.call('missing', {}, ctx)).rejects.toBeInstanceOf(UnknownToolError)
    expect(ran).toBe(false)
  })

  test('refuses duplicate and invalid names', () => {
    const tools = registerBuiltinTools(new ToolRegistry())
    const input = Type.Object({})
    expect(() => tools.tool('echo', { description: '', input }, () => '')).toThrow(
      ToolRegistrationError,
    )
    expect(() => tools.tool('has space', { description: '', input }, () => '')).toThrow(
      ToolRegistrationError,
    )
  })

  test('sleep honours its abort signal', async () => {
    const tools = registerBuiltinTools(new ToolRegistry())
    const controller = new AbortController()
    const call = tools.call('sleep', { seconds: 60 }, { ...ctx, signal: controller.signal })
    controller.abort(new Error('cancelled'))
    await expect(call).rejects.toThrow('cancelled')
  })
})

import { describe, expect, test } from 'bun:test'
import { isAsync } from 'elysia/compose'
import { DEFAULT_CONFIG } from '../config.ts'
import { silentLogger } from '../observability/log.ts'
import { SluiceServer } from '../server.ts'

describe('http app hooks', () => {
  // Elysia decides from a hook's source whether to await it; an await it does not need costs
  // every request a microtask.
  test.each([
    ['no options', {}],
    ['CORS', { corsOrigins: ['https://app.example'] }],
    ['auth', { authTokens: ['secret-token'] }],
  ])('Elysia runs the request and beforeHandle hooks synchronously with %s', (_, options) => {
    const server = new SluiceServer(
      { ...DEFAULT_CONFIG, port: 0, ...options },
      { logger: silentLogger },
    )
    const app = server.elysia
    const hooks = [...(app.event.request ?? []), ...(app.event.beforeHandle ?? [])]
    expect(hooks.length).toBeGreaterThan(0)
    expect(hooks.map((hook) => isAsync(hook))).toEqual(hooks.map(() => false))
  })
})

import { describe, expect, test } from 'bun:test'
import { INITIALIZE, openLegacyStream, post, startServer } from './helpers.ts'

const rpcError = (code: number, message: string) => ({
  jsonrpc: '2.0',
  id: null,
  error: { code, message },
})

describe('POST /message refuses bad input and leaves the session untouched', () => {
  test('answers every bad input with its status and a JSON-RPC error', async () => {
    await using server = startServer({ maxBodyBytes: 1024 })
    const { reader, postUrl, sessionId } = await openLegacyStream(server.url)
    const at = (query: string) => new URL(`/message${query}`, server.url)

    const cases: Array<[string, Promise<Response>, number, unknown]> = [
      [
        'missing session id',
        post(at(''), INITIALIZE),
        400,
        rpcError(-32000, 'Bad Request: missing sessionId query parameter'),
      ],
      [
        'malformed session id',
        post(at('?sessionId=has%20space'), INITIALIZE),
        400,
        rpcError(-32000, 'Bad Request: malformed sessionId'),
      ],
      [
        'unknown session',
        post(at('?sessionId=doesNotExist'), INITIALIZE),
        404,
        rpcError(-32000, 'Not Found: session doesNotExist does not exist or has expired'),
      ],
      [
        'wrong content type',
        post(postUrl, INITIALIZE, 'text/plain'),
        415,
        rpcError(-32000, "Unsupported Media Type: expected application/json, got 'text/plain'"),
      ],
      [
        'body over the limit',
        post(postUrl, { ...INITIALIZE, padding: 'x'.repeat(2048) }),
        413,
        rpcError(-32000, 'Payload Too Large: the body exceeds the limit of 1024 bytes'),
      ],
      [
        'not JSON-RPC',
        post(postUrl, { hello: 'world' }),
        400,
        rpcError(-32600, 'Invalid Request: "jsonrpc" must be "2.0"'),
      ],
      [
        'a batch',
        post(postUrl, [INITIALIZE]),
        400,
        rpcError(-32600, 'Invalid Request: batches are not accepted here; send one message'),
      ],
    ]
    for (const [what, pending, status, body] of cases) {
      const response = await pending
      expect({ what, status: response.status, body: await response.json() }).toEqual({
        what,
        status,
        body,
      })
    }

    const invalidJson = await post(postUrl, '{"jsonrpc": "2.0",')
    expect(invalidJson.status).toBe(400)
    expect(await invalidJson.json()).toEqual(
      rpcError(-32700, expect.stringMatching(/^Parse error: body is not valid JSON/)),
    )

    // The session is untouched: it still initializes and answers on its stream.
    expect(server.sessions.get(sessionId)?.isClosed).toBe(false)
    expect((await post(postUrl, INITIALIZE)).status).toBe(202)
    const frame = await reader.nextEvent()
    expect(frame?.event).toBe('message')
    expect(JSON.parse(frame?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 0,
      result: {
        protocolVersion: '2024-11-05',
        capabilities: { tools: { listChanged: true }, logging: {} },
        serverInfo: { name: 'sluice', version: expect.any(String) },
      },
    })
    await reader.cancel()
  })

  test('accepts session_id as an alias of sessionId', async () => {
    await using server = startServer()
    const { reader, sessionId } = await openLegacyStream(server.url)
    const response = await post(new URL(`/message?session_id=${sessionId}`, server.url), INITIALIZE)
    expect(response.status).toBe(202)
    expect((await reader.nextEvent())?.event).toBe('message')
    await reader.cancel()
  })
})

describe('MCP methods over the legacy stream', () => {
  test('answers unknown methods, bad params and requests before initialize with errors', async () => {
    await using server = startServer()
    const { reader, postUrl, sessionId } = await openLegacyStream(server.url)
    const call = async (message: unknown) => {
      expect((await post(postUrl, message)).status).toBe(202)
      return JSON.parse((await reader.nextEvent())?.data ?? 'null')
    }

    expect(await call({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: -32600,
        message: `Invalid Request: session ${sessionId} is not initialized; send initialize before tools/list`,
      },
    })
    expect(await call({ jsonrpc: '2.0', id: 2, method: 'ping' })).toEqual({
      jsonrpc: '2.0',
      id: 2,
      result: {},
    })
    expect(
      await call({
        ...INITIALIZE,
        id: 3,
        params: { ...INITIALIZE.params, protocolVersion: '1999-01-01' },
      }),
    ).toEqual({
      jsonrpc: '2.0',
      id: 3,
      result: expect.objectContaining({ protocolVersion: '2025-11-25' }),
    })
    expect(await call({ jsonrpc: '2.0', id: 4, method: 'sampling/createMessage' })).toEqual({
      jsonrpc: '2.0',
      id: 4,
      error: { code: -32601, message: 'Method not found: sampling/createMessage' },
    })
    expect(
      await call({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { arguments: {} } }),
    ).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32602, message: 'Invalid params: tools/call needs a tool "name"' },
    })
    expect(
      await call({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'nope' } }),
    ).toEqual({
      jsonrpc: '2.0',
      id: 6,
      error: { code: -32602, message: "Invalid params: unknown tool 'nope'" },
    })
    // A method named after a tool is only a tool call in the direct tool-call flow (POST /mcp?session_id=).
    expect(
      await call({ jsonrpc: '2.0', id: 7, method: 'echo', params: { message: 'hi' } }),
    ).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32601, message: 'Method not found: echo' },
    })
    await reader.cancel()
  })

  test('answers invalid tool arguments with -32602 for clients before 2025-11-25', async () => {
    await using server = startServer()
    const { reader, postUrl } = await openLegacyStream(server.url)
    await post(postUrl, {
      ...INITIALIZE,
      params: { ...INITIALIZE.params, protocolVersion: '2025-06-18' },
    })
    await reader.nextEvent()
    await post(postUrl, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'sleep', arguments: { seconds: 61 } },
    })
    expect(JSON.parse((await reader.nextEvent())?.data ?? 'null')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: {
        code: -32602,
        message:
          "Invalid params: arguments for tool 'sleep' are invalid: /seconds: Expected number to be less or equal to 60",
      },
    })
    await reader.cancel()
  })
})

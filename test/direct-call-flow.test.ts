import { describe, expect, test } from 'bun:test'
import { openLegacyStream, post, startServer } from './helpers.ts'

describe('the direct tool-call flow (/notifications and POST /mcp?session_id=)', () => {
  test('GET /notifications greets, and POST /mcp?session_id= answers a tool named as a method', async () => {
    await using server = startServer()
    const { reader, postUrl, sessionId } = await openLegacyStream(server.url, '/notifications')
    expect(postUrl.pathname + postUrl.search).toBe(`/mcp?session_id=${sessionId}`)
    expect(await reader.nextEvent()).toEqual({ data: `Connected to session ${sessionId}` })

    // Scripts call a tool by name without an initialize handshake.
    const direct = await post(postUrl, {
      jsonrpc: '2.0',
      id: '0',
      method: 'add',
      params: { a: 1, b: 2 },
    })
    expect(direct.status).toBe(202)
    expect(JSON.parse((await reader.nextEvent())?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: '0',
      result: { content: [{ type: 'text', text: '3' }] },
    })

    const initialize = {
      jsonrpc: '2.0',
      id: 'init',
      method: 'initialize',
      params: {
        protocolVersion: '2024-11-05',
        capabilities: {},
        clientInfo: { name: 'curl', version: '1' },
      },
    }
    expect((await post(postUrl, initialize)).status).toBe(202)
    expect(JSON.parse((await reader.nextEvent())?.data ?? '')).toMatchObject({ id: 'init' })

    const response = await post(postUrl, {
      jsonrpc: '2.0',
      id: '1',
      method: 'echo',
      params: { message: 'hi' },
    })
    expect(response.status).toBe(202)
    expect(await reader.nextEvent()).toEqual({
      event: 'message',
      data: JSON.stringify({
        jsonrpc: '2.0',
        id: '1',
        result: { content: [{ type: 'text', text: 'hi' }] },
      }),
    })
    await reader.cancel()
  })
})

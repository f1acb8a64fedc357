import { describe, expect, test } from 'bun:test'
import { connectSdkClient, readMetric, startServer, waitFor } from './helpers.ts'

describe('the official SDK client over HTTP+SSE', () => {
  test('connects, lists the built-in tools and calls echo and add', async () => {
    await using server = startServer()
    await using client = await connectSdkClient(server.url)
    expect(client.getServerVersion()).toEqual({ name: 'sluice', version: expect.any(String) })

    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toEqual(['echo', 'add', 'sleep'])
    expect(tools[0]?.inputSchema).toEqual({
      type: 'object',
      required: ['message'],
      properties: { message: { type: 'string', description: 'Text to echo back.' } },
    })

    expect(await client.callTool({ name: 'echo', arguments: { message: 'hello' } })).toEqual({
      content: [{ type: 'text', text: 'hello' }],
    })
    expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).toEqual({
      content: [{ type: 'text', text: '42' }],
    })
  })

  test('runs a short sleep to completion', async () => {
    await using server = startServer()
    await using client = await connectSdkClient(server.url)
    expect(await client.callTool({ name: 'sleep', arguments: { seconds: 0.05 } })).toEqual({
      content: [{ type: 'text', text: 'slept 0.05s' }],
    })
  })

  test('answers an echo while a sleep of the same session is still running', async () => {
    await using server = startServer()
    await using client = await connectSdkClient(server.url)
    const order: string[] = []
    const sleeping = client
      .callTool({ name: 'sleep', arguments: { seconds: 1 } })
      .then(() => order.push('sleep'))
    await client
      .callTool({ name: 'echo', arguments: { message: 'x' } })
      .then(() => order.push('echo'))
    await sleeping
    expect(order).toEqual(['echo', 'sleep'])
  })

  test('cancelling a running sleep aborts it on the server', async () => {
    await using server = startServer()
    await using client = await connectSdkClient(server.url)
    const controller = new AbortController()
    const call = client.callTool({ name: 'sleep', arguments: { seconds: 30 } }, undefined, {
      signal: controller.signal,
    })
    await waitFor(
      'the sleep to be running',
      () => server.sessions.get(firstSessionId(server))?.calls.size === 1,
    )
    controller.abort('user cancelled')
    await expect(call).rejects.toThrow()
    await waitFor(
      'the cancelled call to be counted',
      async () =>
        (await readMetric(
          server.url,
          'sluice_tool_calls_total{outcome="cancelled",tool="sleep"}',
        ).catch(() => 0)) === 1,
    )
    expect(server.sessions.get(firstSessionId(server))?.calls.size).toBe(0)
    // The session is still usable after a cancellation.
    expect(await client.callTool({ name: 'echo', arguments: { message: 'still here' } })).toEqual({
      content: [{ type: 'text', text: 'still here' }],
    })
  })

  test('reports invalid tool arguments as a tool error (2025-11-25) the model can read', async () => {
    await using server = startServer()
    await using client = await connectSdkClient(server.url)
    const result = await client.callTool({ name: 'add', arguments: { a: 'two', b: 2 } })
    expect(result.isError).toBe(true)
    expect(result.content).toEqual([
      {
        type: 'text',
        text: expect.stringContaining("Invalid params: arguments for tool 'add' are invalid"),
      },
    ])
  })

  test('closing the client closes its session on the server', async () => {
    await using server = startServer()
    const client = await connectSdkClient(server.url)
    expect(server.sessions.size).toBe(1)
    await client.close()
    await waitFor('the session to close', () => server.sessions.size === 0)
    expect(
      await readMetric(server.url, 'sluice_sessions_closed_total{reason="client_abort"}'),
    ).toBe(1)
  })
})

function firstSessionId(server: ReturnType<typeof startServer>): string {
  const id = server.sessions.ids().next().value
  if (!id) throw new Error('no session')
  return id
}

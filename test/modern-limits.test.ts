import { describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { Type } from '@sinclair/typebox'
import { readMetric, startServer, waitFor } from './helpers.ts'
import { META, post, rawModernPost } from './modern-helpers.ts'

const MiB = 1024 * 1024

/** Sends a raw request and stops reading; `closed` resolves once the socket is closed. */
function unread(base: URL, request: string) {
  const socket = connect(Number(base.port), base.hostname)
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(request)
  socket.pause()
  return { socket, closed }
}

describe('2026-07-28 answers are bounded like every stream', () => {
  test('a large JSON answer nobody reads is charged to the budget, then cut at the send deadline', async () => {
    await using server = startServer({
      sendDeadlineMs: 1000,
      maxBodyBytes: 16 * MiB,
      maxQueueBytes: 64 * MiB,
    })
    const args = { name: 'echo', arguments: { message: 'x'.repeat(8 * MiB) } }
    const { socket, closed } = unread(server.url, rawModernPost(server.url, 1, 'tools/call', args))
    await waitFor(
      'the answer to be charged',
      async () => (await readMetric(server.url, 'sluice_buffered_bytes')) > 4 * MiB,
      20_000,
    )
    await waitFor(
      'the answer to be cut',
      async () => (await readMetric(server.url, 'sluice_replies_abandoned_total')) === 1,
      20_000,
    )
    expect(await readMetric(server.url, 'sluice_buffered_bytes')).toBe(0)
    socket.resume()
    await closed
  }, 30_000)

  test('a stream the server closes for a full queue has its connection cut', async () => {
    await using server = startServer({ responseMode: 'sse', maxQueueBytes: 1024 * 1024 })
    server.tool(
      'spam',
      { description: 'Floods progress.', input: Type.Object({}) },
      async (_a, ctx) => {
        for (let i = 0; i < 100 && !ctx.signal.aborted; i++) {
          ctx.progress(i, 100, 'p'.repeat(100_000))
          await Bun.sleep(0)
        }
        return 'done'
      },
    )
    const args = { name: 'spam', arguments: {}, _meta: { ...META, progressToken: 't' } }
    const { socket, closed } = unread(
      server.url,
      rawModernPost(server.url, 1, 'tools/call', args, 'text/event-stream'),
    )
    await waitFor(
      'the queue_full close',
      async () =>
        (await readMetric(
          server.url,
          'sluice_stateless_requests_closed_total{reason="queue_full"}',
        )) === 1,
      20_000,
    )
    socket.resume()
    await closed
    expect(server.requests.inFlight).toBe(0)
  }, 30_000)

  test('a result larger than one answer may be is a definite error, not a 503', async () => {
    await using server = startServer({ maxQueueBytes: 64 * 1024 })
    const response = await post(server.url, 42, 'tools/call', {
      name: 'echo',
      arguments: { message: 'y'.repeat(100 * 1024) },
    })
    expect(response.headers.get('retry-after')).toBeNull()
    const body = (await response.json()) as { id: number; error: { code: number; message: string } }
    expect(body.id).toBe(42)
    expect(body.error.code).toBe(-32603)
    expect(body.error.message).toContain("exceeds this server's limit for one answer")
  })
})

describe('calls in flight on 2026-07-28', () => {
  test('a cancelled handler that ignores its signal counts until it returns', async () => {
    await using server = startServer({ responseMode: 'sse' })
    const release = Promise.withResolvers<void>()
    server.tool(
      'stubborn',
      { description: 'Ignores cancellation.', input: Type.Object({}) },
      async () => {
        await release.promise
        return 'finally'
      },
    )
    const abort = new AbortController()
    const response = await post(
      server.url,
      1,
      'tools/call',
      { name: 'stubborn', arguments: {} },
      {},
      abort.signal,
    )
    await response.body?.getReader().read()
    abort.abort()
    await waitFor('the request to be released', () => server.requests.inFlight === 0)
    expect(await readMetric(server.url, 'sluice_tool_calls_in_flight')).toBe(1)
    release.resolve()
    await waitFor(
      'the handler to return',
      async () => (await readMetric(server.url, 'sluice_tool_calls_in_flight')) === 0,
    )
  })

  test('--max-calls-in-flight refuses new requests with 503 naming the request', async () => {
    await using server = startServer({ maxCallsInFlight: 2 })
    const aborts = [new AbortController(), new AbortController()]
    const sleeping = aborts.map((a, i) =>
      post(
        server.url,
        i + 1,
        'tools/call',
        { name: 'sleep', arguments: { seconds: 30 } },
        {},
        a.signal,
      ).catch(() => undefined),
    )
    await waitFor(
      'two calls running',
      async () => (await readMetric(server.url, 'sluice_tool_calls_in_flight')) === 2,
    )
    const refused = await post(server.url, 42, 'tools/call', {
      name: 'echo',
      arguments: { message: 'hi' },
    })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('5')
    expect(((await refused.json()) as { id: number }).id).toBe(42)
    expect(
      await readMetric(server.url, 'sluice_limit_refusals_total{limit="calls_in_flight"}'),
    ).toBe(1)
    for (const a of aborts) a.abort()
    await Promise.all(sleeping)
  })
})

describe('requestState', () => {
  test('carries only the answers the handler asked for, and refuses to grow past the body limit', async () => {
    await using server = startServer({ profile: 'conformance', maxBodyBytes: 64 * 1024 })
    const meta = { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } }
    const call = (extra: Record<string, unknown>) => ({
      name: 'test_input_required_result_multi_round',
      arguments: {},
      _meta: meta,
      ...extra,
    })
    const first = (await (await post(server.url, 1, 'tools/call', call({}))).json()) as {
      result: { requestState: string }
    }
    const second = (await (
      await post(
        server.url,
        2,
        'tools/call',
        call({
          requestState: first.result.requestState,
          inputResponses: {
            step1: { action: 'accept', content: { name: 'Ada' } },
            zz_not_asked: { action: 'accept', content: { x: 'y'.repeat(1000) } },
          },
        }),
      )
    ).json()) as { result: { requestState: string } }
    const sealed = JSON.parse(
      Buffer.from(second.result.requestState.split('.')[0] ?? '', 'base64url').toString(),
    ) as { responses: Record<string, unknown> }
    expect(Object.keys(sealed.responses)).toEqual(['step1'])
    const big = (await (
      await post(
        server.url,
        3,
        'tools/call',
        call({
          inputResponses: { step1: { action: 'accept', content: { name: 'z'.repeat(40_000) } } },
        }),
      )
    ).json()) as { id: number; error: { code: number; message: string } }
    expect(big.id).toBe(3)
    expect(big.error.code).toBe(-32603)
    expect(big.error.message).toContain("exceed this server's limit")
  })
})

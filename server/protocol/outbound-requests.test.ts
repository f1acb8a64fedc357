import { describe, expect, test } from 'bun:test'
import { Counter } from '../observability/metrics.ts'
import type { JsonRpcMessage } from './jsonrpc.ts'
import { OutboundRequests } from './outbound-requests.ts'
import type { McpPeer } from './peer.ts'
import { PendingCalls } from './pending-calls.ts'

function fakePeer() {
  const sent: Array<{ message: JsonRpcMessage; relatedTo: unknown }> = []
  const closed = new AbortController()
  let isClosed = false
  let accepting = true
  const peer = {
    sessionId: 's1',
    state: { protocolVersion: '2025-11-25', clientReady: true, clientInfo: undefined },
    calls: new PendingCalls(),
    get isClosed() {
      return isClosed
    },
    signal: closed.signal,
    send(message: JsonRpcMessage, relatedTo?: unknown) {
      sent.push({ message, relatedTo })
      return accepting
    },
    endWithoutResponse() {},
    chargeTransit() {},
  } satisfies McpPeer
  return {
    peer,
    sent,
    refuseSends() {
      accepting = false
    },
    close() {
      isClosed = true
      closed.abort('client_abort')
    },
  }
}

function outbound(options: { timeoutMs?: number; maxPerSession?: number } = {}) {
  const requests = new Counter('c', 'test')
  const ignored = new Counter('c', 'test')
  const refusals = new Counter('c', 'test')
  const out = new OutboundRequests({
    timeoutMs: options.timeoutMs ?? 60_000,
    maxPerSession: options.maxPerSession ?? 4,
    requests,
    ignoredResponses: ignored,
    limitRefusals: refusals,
  })
  return { out, requests, ignored, refusals }
}

const ROOTS = { roots: [{ uri: 'file:///a' }] }

describe('OutboundRequests', () => {
  test('sends the request related to the call that asked and resolves with the answer', async () => {
    const { out, requests } = outbound()
    const { peer, sent } = fakePeer()
    const answer = out.request(peer, 7, 'roots/list', {}, new AbortController().signal)
    expect(sent).toEqual([
      { message: { jsonrpc: '2.0', id: 1, method: 'roots/list', params: {} }, relatedTo: 7 },
    ])
    expect(out.pending).toBe(1)
    out.settle(peer, { jsonrpc: '2.0', id: 1, result: ROOTS })
    expect(await answer).toEqual(ROOTS)
    expect(out.pending).toBe(0)
    expect(requests.get({ method: 'roots/list', outcome: 'ok' })).toBe(1)
  })

  test('a second response for the same id, or an unknown id, is ignored and counted', async () => {
    const { out, ignored } = outbound()
    const { peer } = fakePeer()
    const answer = out.request(peer, 7, 'roots/list', {}, new AbortController().signal)
    out.settle(peer, { jsonrpc: '2.0', id: 1, result: ROOTS })
    out.settle(peer, { jsonrpc: '2.0', id: 1, result: ROOTS })
    out.settle(peer, { jsonrpc: '2.0', id: 42, result: ROOTS })
    await answer
    expect(ignored.get()).toBe(2)
    expect(out.pending).toBe(0)
  })

  test('a malformed result or an error response rejects', async () => {
    const { out } = outbound()
    const { peer } = fakePeer()
    const signal = new AbortController().signal
    const bad = out.request(peer, 1, 'elicitation/create', {}, signal)
    const refused = out.request(peer, 1, 'sampling/createMessage', {}, signal)
    out.settle(peer, { jsonrpc: '2.0', id: 1, result: { action: 'maybe' } })
    out.settle(peer, { jsonrpc: '2.0', id: 2, error: { code: -1, message: 'User rejected' } })
    await expect(bad).rejects.toThrow('malformed')
    await expect(refused).rejects.toThrow('User rejected')
    expect(out.pending).toBe(0)
  })

  test('cancelling the call sends notifications/cancelled and rejects once', async () => {
    const { out, requests } = outbound()
    const { peer, sent } = fakePeer()
    const call = new AbortController()
    const answer = out.request(peer, 3, 'roots/list', {}, call.signal)
    call.abort(new Error('call cancelled'))
    await expect(answer).rejects.toThrow('call cancelled')
    expect(sent[1]).toEqual({
      message: {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 1, reason: 'the request that asked for roots/list was cancelled' },
      },
      relatedTo: 3,
    })
    out.settle(peer, { jsonrpc: '2.0', id: 1, result: ROOTS })
    expect(requests.get({ method: 'roots/list', outcome: 'cancelled' })).toBe(1)
    expect(requests.get({ method: 'roots/list', outcome: 'ok' })).toBe(0)
    expect(out.pending).toBe(0)
  })

  test('times out, telling the client', async () => {
    const { out } = outbound({ timeoutMs: 10 })
    const { peer, sent } = fakePeer()
    const answer = out.request(peer, 3, 'roots/list', {}, new AbortController().signal)
    await expect(answer).rejects.toThrow('did not answer roots/list within 10 ms')
    expect(sent.map((s) => (s.message as { method?: string }).method)).toEqual([
      'roots/list',
      'notifications/cancelled',
    ])
    expect(out.pending).toBe(0)
  })

  test('is bounded per session', async () => {
    const { out, refusals } = outbound({ maxPerSession: 1 })
    const { peer } = fakePeer()
    const signal = new AbortController().signal
    void out.request(peer, 1, 'roots/list', {}, signal).catch(() => {})
    await expect(out.request(peer, 2, 'roots/list', {}, signal)).rejects.toThrow(
      'Too Many Requests',
    )
    expect(refusals.get({ limit: 'input_requests_per_session' })).toBe(1)
    expect(out.pending).toBe(1)
  })

  test("the session's close rejects everything still waiting, without writing to it", async () => {
    const { out, requests } = outbound()
    const { peer, sent, close } = fakePeer()
    const signal = new AbortController().signal
    const a = out.request(peer, 1, 'roots/list', {}, signal)
    const b = out.request(peer, 2, 'elicitation/create', {}, signal)
    close()
    await expect(a).rejects.toThrow('session s1 closed')
    await expect(b).rejects.toThrow('session s1 closed')
    expect(sent).toHaveLength(2)
    expect(out.pending).toBe(0)
    expect(requests.get({ method: 'roots/list', outcome: 'session_closed' })).toBe(1)
    await expect(out.request(peer, 3, 'roots/list', {}, signal)).rejects.toThrow('closed')
  })

  test('a request the session cannot queue fails at once and holds nothing', async () => {
    const { out, requests } = outbound()
    const { peer, refuseSends } = fakePeer()
    refuseSends()
    await expect(
      out.request(peer, 1, 'roots/list', {}, new AbortController().signal),
    ).rejects.toThrow('could not be sent')
    expect(out.pending).toBe(0)
    expect(requests.get({ method: 'roots/list', outcome: 'undeliverable' })).toBe(1)
  })

  test('a send that closes the session (queue full) releases the request once', async () => {
    const { out, requests } = outbound()
    const { peer, refuseSends, close } = fakePeer()
    const send = peer.send
    refuseSends()
    peer.send = (message, relatedTo) => {
      close()
      return send(message, relatedTo)
    }
    await expect(
      out.request(peer, 1, 'roots/list', {}, new AbortController().signal),
    ).rejects.toThrow('closed')
    expect(out.pending).toBe(0)
    expect(requests.get({ method: 'roots/list', outcome: 'session_closed' })).toBe(1)
    expect(requests.get({ method: 'roots/list', outcome: 'undeliverable' })).toBe(0)
  })
})

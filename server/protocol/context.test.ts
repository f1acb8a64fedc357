import { describe, expect, test } from 'bun:test'
import {
  CallContext,
  type ElicitResult,
  type HandlerContext,
  type InputChannel,
} from './context.ts'
import type { JsonRpcMessage } from './jsonrpc.ts'
import type { McpPeer } from './peer.ts'
import { PendingCall, PendingCalls } from './pending-calls.ts'

function fakePeer(capabilities: Record<string, unknown> = { elicitation: {} }, logLevel?: string) {
  const sent: Array<{ message: JsonRpcMessage; relatedTo: unknown }> = []
  const peer: McpPeer = {
    sessionId: 's1',
    state: {
      protocolVersion: '2025-11-25',
      clientReady: true,
      clientInfo: undefined,
      clientCapabilities: capabilities,
      logLevel,
    },
    calls: new PendingCalls(),
    isClosed: false,
    signal: new AbortController().signal,
    send(message, relatedTo) {
      sent.push({ message, relatedTo })
      return true
    },
    endWithoutResponse() {},
    chargeTransit() {},
  }
  return { peer, sent }
}

const refuse: InputChannel = { request: () => Promise.reject(new Error('no channel')) }

describe('CallContext', () => {
  test('log sends notifications/message at or above the session level, related to the request', () => {
    const { peer, sent } = fakePeer({}, 'warning')
    const ctx = new CallContext(peer, 9, new PendingCall(), undefined, refuse)
    ctx.log('info', 'dropped')
    ctx.log('error', { code: 1 }, 'db')
    expect(sent).toEqual([
      {
        message: {
          jsonrpc: '2.0',
          method: 'notifications/message',
          params: { level: 'error', data: { code: 1 }, logger: 'db' },
        },
        relatedTo: 9,
      },
    ])
  })

  test('log and progress do nothing once the call has ended', () => {
    const { peer, sent } = fakePeer({}, 'debug')
    const ctx = new CallContext(peer, 9, new PendingCall(), { progressToken: 't' }, refuse)
    ctx.progress(1, 2)
    ctx.end()
    ctx.progress(2, 2)
    ctx.log('error', 'late')
    expect(sent.map((s) => (s.message as { method: string }).method)).toEqual([
      'notifications/progress',
    ])
  })

  test('an input request is refused up front without the client capability', async () => {
    const { peer } = fakePeer({})
    const ctx = new CallContext(peer, 9, new PendingCall(), undefined, refuse)
    await expect(ctx.sample({ messages: [], maxTokens: 1 })).rejects.toThrow(
      'did not declare the sampling capability',
    )
    await expect(ctx.listRoots()).rejects.toThrow('did not declare the roots capability')
  })
})

/**
 * The 2026-07-28 multi-round-trip pattern, in miniature: the first attempt ends with the input
 * requests it needs; the retry carries the responses, keyed by the order of the requests. The
 * handler is the same one the 2025 transports serve through OutboundRequests.
 */
class InputRequired extends Error {
  constructor(readonly inputRequests: Record<string, { method: string; params: unknown }>) {
    super('input required')
  }
}

function roundTripChannel(responses: Record<string, unknown>): InputChannel {
  return {
    request: (_peer, _relatedTo, method, params, _signal, ordinal) => {
      const key = `input-${ordinal}`
      if (key in responses) return Promise.resolve(responses[key] as Record<string, unknown>)
      return Promise.reject(new InputRequired({ [key]: { method, params } }))
    },
  }
}

describe('the handler API does not depend on how input requests travel', () => {
  const handler = async (ctx: HandlerContext) => {
    const first: ElicitResult = await ctx.elicit({
      message: 'Name?',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
    })
    const second = await ctx.elicit({
      message: 'Sure?',
      requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
    })
    return `${first.content?.name}:${second.content?.ok}`
  }

  test('served by a multi-round-trip channel: each attempt asks for the next input', async () => {
    const { peer } = fakePeer()
    const attempt = (responses: Record<string, unknown>) =>
      handler(new CallContext(peer, 1, new PendingCall(), undefined, roundTripChannel(responses)))
    const needs = async (responses: Record<string, unknown>) => {
      const err = await attempt(responses).then(
        () => undefined,
        (e: unknown) => e,
      )
      return err instanceof InputRequired ? Object.keys(err.inputRequests) : []
    }
    expect(await needs({})).toEqual(['input-1'])
    const one = { 'input-1': { action: 'accept', content: { name: 'Ada' } } }
    expect(await needs(one)).toEqual(['input-2'])
    const both = { ...one, 'input-2': { action: 'accept', content: { ok: true } } }
    expect(await attempt(both)).toBe('Ada:true')
  })
})

import { describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { readMetric, startServer } from './helpers.ts'
import { META, post } from './modern-helpers.ts'

const ELICIT = { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } }
const call = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  arguments: {},
  _meta: ELICIT,
  ...extra,
})
const accept = (content: Record<string, unknown>) => ({ action: 'accept', content })

type Answer = { result?: Record<string, unknown>; error?: { code: number; message: string } }
async function ask(base: URL, id: number, params: Record<string, unknown>): Promise<Answer> {
  return (await (await post(base, id, 'tools/call', params)).json()) as Answer
}

describe('input requests on 2026-07-28 travel by multi round-trip', () => {
  test('the same handler asks, ends the attempt, and completes on the retry', async () => {
    await using server = startServer({ profile: 'conformance' })
    const first = await ask(server.url, 1, call('test_input_required_result_multi_round'))
    expect(first.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: {
        step1: {
          method: 'elicitation/create',
          params: { message: 'Step 1: What is your name?' },
        },
      },
    })
    const state1 = first.result?.requestState
    expect(typeof state1).toBe('string')
    const second = await ask(
      server.url,
      2,
      call('test_input_required_result_multi_round', {
        inputResponses: { step1: accept({ name: 'Ada' }) },
        requestState: state1,
      }),
    )
    expect(Object.keys((second.result?.inputRequests ?? {}) as object)).toEqual(['step2'])
    expect(second.result?.requestState).not.toBe(state1)
    // Round 3 brings only step2: step1's answer travels in the signed state.
    const third = await ask(
      server.url,
      3,
      call('test_input_required_result_multi_round', {
        inputResponses: { step2: accept({ color: 'green' }) },
        requestState: second.result?.requestState,
      }),
    )
    expect(third.result).toMatchObject({
      resultType: 'complete',
      content: [{ type: 'text', text: 'Ada likes green' }],
    })
    expect(
      await readMetric(
        server.url,
        'sluice_tool_calls_total{outcome="input_required",tool="test_input_required_result_multi_round"}',
      ),
    ).toBe(2)
    expect(await readMetric(server.url, 'sluice_input_requests_pending')).toBe(0)
  })

  test('a requestState that was altered, or is presented on another request, is refused', async () => {
    await using server = startServer({ profile: 'conformance' })
    const first = await ask(server.url, 1, call('test_input_required_result_request_state'))
    const state = String(first.result?.requestState)
    const responses = { inputResponses: { confirm: accept({ ok: true }) } }
    const tampered = await ask(
      server.url,
      2,
      call('test_input_required_result_request_state', { ...responses, requestState: `${state}x` }),
    )
    expect(tampered.error?.code).toBe(-32602)
    const elsewhere = await ask(
      server.url,
      3,
      call('test_input_required_result_tampered_state', { ...responses, requestState: state }),
    )
    expect(elsewhere.error).toEqual({
      code: -32602,
      message: 'Invalid params: requestState belongs to another request; retry it from the start',
    })
    const honest = await ask(
      server.url,
      4,
      call('test_input_required_result_request_state', { ...responses, requestState: state }),
    )
    expect(honest.result?.content).toEqual([{ type: 'text', text: 'state-ok: confirmed true' }])
  })

  test('a handler that changes its arguments before it asks still completes on the retry', async () => {
    await using server = startServer({ profile: 'conformance' })
    server.tool(
      'rename_then_ask',
      {
        description: 'Changes its arguments, then elicits.',
        input: Type.Object({ to: Type.String() }),
      },
      async (args, ctx) => {
        args.to = `${args.to}!`
        const answer = await ctx.elicit({
          message: 'Sure?',
          requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
        })
        return `${args.to} ${answer.action}`
      },
    )
    const params = { ...call('rename_then_ask'), arguments: { to: 'Ada' } }
    const first = await ask(server.url, 1, params)
    expect(first.result?.resultType).toBe('input_required')
    const retry = await ask(server.url, 2, {
      ...params,
      inputResponses: {
        [Object.keys(first.result?.inputRequests as object)[0] ?? '']: accept({ ok: true }),
      },
      requestState: first.result?.requestState,
    })
    expect(retry.result?.content).toEqual([{ type: 'text', text: 'Ada! accept' }])
  })

  test('several input requests of one attempt go back together; a non-answer is asked again', async () => {
    await using server = startServer({ profile: 'conformance' })
    const everything = {
      ...META,
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {}, sampling: {}, roots: {} },
    }
    const first = await ask(server.url, 1, {
      name: 'test_input_required_result_multiple_inputs',
      arguments: {},
      _meta: everything,
    })
    expect(Object.keys((first.result?.inputRequests ?? {}) as object).sort()).toEqual([
      'client_roots',
      'greeting',
      'user_name',
    ])
    const retry = await ask(server.url, 2, {
      name: 'test_input_required_result_multiple_inputs',
      arguments: {},
      _meta: everything,
      requestState: first.result?.requestState,
      inputResponses: {
        user_name: accept({ name: 'Ada' }),
        greeting: { role: 'assistant', content: { type: 'text', text: 'Hi' }, model: 'm' },
        client_roots: 12345,
      },
    })
    expect(retry.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { client_roots: { method: 'roots/list', params: {} } },
    })
  })

  test('input requests the client did not declare are refused with -32021', async () => {
    await using server = startServer({ profile: 'conformance' })
    const answer = await ask(server.url, 1, {
      ...call('test_input_required_result_elicitation'),
      _meta: META,
    })
    expect(answer.error?.code).toBe(-32021)
  })
})

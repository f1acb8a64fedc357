import { Type } from '@sinclair/typebox'
import type { ElicitParams, HandlerContext } from '../server/protocol/context.ts'
import type { SluiceServer } from '../server/server.ts'

const NO_ARGS = Type.Object({})

const ask = (message: string, field: string, type = 'string'): ElicitParams => ({
  message,
  requestedSchema: { type: 'object', properties: { [field]: { type } }, required: [field] },
})
const question = (text: string, maxTokens: number) => ({
  messages: [{ role: 'user' as const, content: { type: 'text', text } }],
  maxTokens,
})
const textOf = (answer: { content: unknown }) =>
  (answer.content as { text?: string } | undefined)?.text ?? ''

/**
 * The fixtures of the conformance suite's `input-required-result-*` scenarios (0.2.x,
 * 2026-07-28). They are plain handlers that await `ctx.elicit`, `ctx.sample` and
 * `ctx.listRoots` with keys: the era decides that these travel by multi round-trip.
 */
export function registerRoundTripConformanceFixtures(server: SluiceServer): void {
  server
    .tool(
      'test_input_required_result_elicitation',
      { description: 'Asks for the user name.', input: NO_ARGS },
      async (_args, ctx) => {
        const answer = await ctx.elicit(ask('What is your name?', 'name'), { key: 'user_name' })
        return `Hello, ${answer.content?.name}!`
      },
    )
    .tool(
      'test_input_required_result_sampling',
      { description: "Asks the client's model a question.", input: NO_ARGS },
      async (_args, ctx) => {
        const answer = await ctx.sample(question('What is the capital of France?', 100), {
          key: 'capital_question',
        })
        return `The model said: ${textOf(answer)}`
      },
    )
    .tool(
      'test_input_required_result_list_roots',
      { description: "Reads the client's roots.", input: NO_ARGS },
      async (_args, ctx) => {
        const { roots } = await ctx.listRoots({ key: 'client_roots' })
        return `Roots: ${roots.map((r) => r.uri).join(', ')}`
      },
    )
    .tool(
      'test_input_required_result_request_state',
      { description: 'Asks for a confirmation; its state travels signed.', input: NO_ARGS },
      async (_args, ctx) => {
        const answer = await ctx.elicit(ask('Please confirm', 'ok', 'boolean'), { key: 'confirm' })
        // The transport verified the requestState before this attempt ran.
        return `state-ok: confirmed ${answer.content?.ok}`
      },
    )
    .tool(
      'test_input_required_result_tampered_state',
      { description: 'Asks for a confirmation; a tampered state is refused.', input: NO_ARGS },
      async (_args, ctx) => {
        const answer = await ctx.elicit(ask('Please confirm', 'ok', 'boolean'), { key: 'confirm' })
        return `confirmed ${answer.content?.ok}`
      },
    )
    .tool(
      'test_input_required_result_multiple_inputs',
      { description: 'Asks for three inputs at once.', input: NO_ARGS },
      async (_args, ctx) => {
        const [name, greeting, { roots }] = await Promise.all([
          ctx.elicit(ask('What is your name?', 'name'), { key: 'user_name' }),
          ctx.sample(question('Generate a greeting', 50), { key: 'greeting' }),
          ctx.listRoots({ key: 'client_roots' }),
        ])
        return `${textOf(greeting)} ${name.content?.name} (${roots.length} roots)`
      },
    )
    .tool(
      'test_input_required_result_multi_round',
      { description: 'Asks two questions, one after the other.', input: NO_ARGS },
      async (_args, ctx) => {
        const name = await ctx.elicit(ask('Step 1: What is your name?', 'name'), { key: 'step1' })
        const color = await ctx.elicit(ask('Step 2: What is your favorite color?', 'color'), {
          key: 'step2',
        })
        return `${name.content?.name} likes ${color.content?.color}`
      },
    )
    .tool(
      'test_input_required_result_capabilities',
      { description: 'Asks only what the client declared it can answer.', input: NO_ARGS },
      async (_args, ctx) => {
        const asks: Promise<unknown>[] = []
        if (ctx.clientCapabilities.elicitation !== undefined) {
          asks.push(ctx.elicit(ask('What is your name?', 'name'), { key: 'user_name' }))
        }
        if (ctx.clientCapabilities.sampling !== undefined) {
          asks.push(ctx.sample(question('Say hi.', 16), { key: 'greeting' }))
        }
        await Promise.all(asks)
        return `answered ${asks.length} input requests`
      },
    )
    .prompt(
      'test_input_required_result_prompt',
      { description: 'A prompt that asks the user for its context' },
      async (_args, ctx: HandlerContext) => {
        const answer = await ctx.elicit(ask('What context should the prompt use?', 'context'), {
          key: 'user_context',
        })
        return {
          messages: [
            {
              role: 'user',
              content: { type: 'text', text: `Context: ${answer.content?.context}` },
            },
          ],
        }
      },
    )
}

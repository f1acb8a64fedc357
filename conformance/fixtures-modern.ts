import { Type } from '@sinclair/typebox'
import type { SluiceServer } from '../server/server.ts'
import { sleep } from '../server/tools/builtin.ts'

const NO_ARGS = Type.Object({})
const TEMPORARY_TOOL = 'test_temporary_tool'
const TEMPORARY_PROMPT = 'test_temporary_prompt'

/**
 * The fixture tools the 2026-07-28 scenarios of the conformance suite (0.2.x) call by name:
 * `server-stateless` (its list-changed hooks among them) and
 * `http-custom-header-server-validation`.
 */
export function registerModernConformanceFixtures(server: SluiceServer): void {
  server
    .tool(
      'test_missing_capability',
      { description: 'Asks the client to sample: needs its sampling capability.', input: NO_ARGS },
      async (_args, ctx) => {
        const message = { role: 'user' as const, content: { type: 'text', text: 'Say hi.' } }
        const answer = await ctx.sample({ messages: [message], maxTokens: 16 })
        return JSON.stringify(answer.content)
      },
    )
    .tool(
      'test_streaming_elicitation',
      { description: 'Answers on its own stream, never with a request.', input: NO_ARGS },
      async (_args, ctx) => {
        ctx.progress(1, 2)
        await sleep(10, ctx.signal)
        return 'no server-to-client request on a 2026-07-28 stream'
      },
    )
    .tool(
      'test_logging_tool',
      { description: 'Logs: only where the request asked for a log level.', input: NO_ARGS },
      (_args, ctx) => {
        ctx.log('info', 'test_logging_tool ran')
        return 'logged where asked'
      },
    )
    .tool(
      'test_trigger_tool_change',
      { description: 'Adds or removes a tool, so the tool list changes.', input: NO_ARGS },
      () => {
        if (!server.remove('tool', TEMPORARY_TOOL)) {
          server.tool(
            TEMPORARY_TOOL,
            { description: 'Comes and goes.', input: NO_ARGS },
            () => 'here',
          )
        }
        return 'the tool list changed'
      },
    )
    .tool(
      'test_trigger_prompt_change',
      { description: 'Adds or removes a prompt, so the prompt list changes.', input: NO_ARGS },
      () => {
        if (!server.remove('prompt', TEMPORARY_PROMPT)) {
          server.prompt(TEMPORARY_PROMPT, { description: 'Comes and goes.' }, () => ({
            messages: [{ role: 'user', content: { type: 'text', text: 'here' } }],
          }))
        }
        return 'the prompt list changed'
      },
    )
    .tool(
      'test_header_param',
      {
        description: 'Mirrors its region parameter into the Mcp-Param-Region header (SEP-2243).',
        input: Type.Object({
          region: Type.String({ 'x-mcp-header': 'Region', description: 'Where to run.' }),
          query: Type.Optional(Type.String()),
        }),
      },
      ({ region }) => `region ${region}`,
    )
}

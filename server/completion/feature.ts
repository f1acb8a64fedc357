import type { PromptRegistry } from '../prompts/registry.ts'
import type { Completer } from '../protocol/context.ts'
import { invalidParams } from '../protocol/errors.ts'
import type { McpFeature, MethodHandler } from '../protocol/feature.ts'
import type { JsonRpcRequest } from '../protocol/jsonrpc.ts'
import { checkUriLength, type ResourceRegistry } from '../resources/registry.ts'

/** The spec's cap on `completion.values`. */
export const MAX_COMPLETION_VALUES = 100

/** completion/complete for prompt arguments and resource template variables. */
export class CompletionFeature implements McpFeature {
  readonly methods: ReadonlyMap<string, MethodHandler>

  constructor(
    private readonly prompts: PromptRegistry,
    private readonly resources: ResourceRegistry,
  ) {
    this.methods = new Map<string, MethodHandler>([
      [
        'completion/complete',
        async (req, ctx) => {
          const { completer, value, resolved } = this.#find(req)
          const values = completer
            ? await completer(value, { arguments: resolved, signal: ctx.signal })
            : []
          return {
            completion: {
              values: values.slice(0, MAX_COMPLETION_VALUES),
              total: values.length,
              hasMore: values.length > MAX_COMPLETION_VALUES,
            },
          }
        },
      ],
    ])
  }

  capabilities(): Record<string, unknown> | undefined {
    if (this.prompts.prompts.size === 0 && this.resources.templates.size === 0) return undefined
    return { completions: {} }
  }

  #find(req: JsonRpcRequest): {
    completer: Completer | undefined
    value: string
    resolved: Record<string, string>
  } {
    const ref = req.params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined
    const argument = req.params?.argument as { name?: unknown; value?: unknown } | undefined
    if (typeof argument?.name !== 'string' || typeof argument.value !== 'string') {
      throw invalidParams('completion/complete needs "argument" with a "name" and a "value"')
    }
    const context = (req.params?.context as { arguments?: unknown } | undefined)?.arguments
    const resolved = stringRecord(context)
    if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
      const prompt = this.prompts.prompts.get(ref.name)
      if (!prompt) throw invalidParams(`unknown prompt '${ref.name}'`)
      return { completer: prompt.complete.get(argument.name), value: argument.value, resolved }
    }
    if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
      checkUriLength(ref.uri, req.method)
      const template = this.resources.templates.get(ref.uri)
      if (!template) throw invalidParams(`unknown resource template '${ref.uri}'`)
      return { completer: template.complete.get(argument.name), value: argument.value, resolved }
    }
    throw invalidParams('"ref" must be a ref/prompt with a "name" or a ref/resource with a "uri"')
  }
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof value !== 'object' || value === null) return out
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v
  return out
}

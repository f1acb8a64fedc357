import { paginate } from '../protocol/catalog.ts'
import { invalidParams } from '../protocol/errors.ts'
import type { McpFeature, MethodHandler } from '../protocol/feature.ts'
import type { PromptRegistry } from './registry.ts'

/** prompts/list and prompts/get. */
export class PromptsFeature implements McpFeature {
  readonly methods: ReadonlyMap<string, MethodHandler>

  constructor(private readonly registry: PromptRegistry) {
    this.methods = new Map<string, MethodHandler>([
      [
        'prompts/list',
        (req) => {
          const { page, nextCursor } = paginate(this.registry.prompts.values(), req.params?.cursor)
          return { prompts: page.map((p) => p.descriptor), ...(nextCursor ? { nextCursor } : {}) }
        },
      ],
      [
        'prompts/get',
        async (req, ctx) => {
          const name = req.params?.name
          if (typeof name !== 'string') throw invalidParams('prompts/get needs a prompt "name"')
          const args = req.params?.arguments
          if (
            args !== undefined &&
            (typeof args !== 'object' || args === null || Array.isArray(args))
          ) {
            throw invalidParams(`"arguments" of prompt '${name}' must be an object`)
          }
          return { ...(await this.registry.get(name, args, ctx)) }
        },
      ],
    ])
  }

  capabilities(): Record<string, unknown> | undefined {
    return this.registry.prompts.size === 0 ? undefined : { prompts: { listChanged: true } }
  }
}

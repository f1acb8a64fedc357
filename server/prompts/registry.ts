import { type TObject, Type } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { Catalog } from '../protocol/catalog.ts'
import type { Completer, HandlerContext } from '../protocol/context.ts'
import { invalidParams } from '../protocol/errors.ts'
import type { PromptDefinition, PromptHandler, PromptResult } from './types.ts'

export interface RegisteredPrompt {
  descriptor: Record<string, unknown>
  check: TypeCheck<TObject>
  /** The declared argument names; a Map-like set, so `__proto__` is just a name. */
  argumentNames: ReadonlySet<string>
  handler: PromptHandler<TObject>
  complete: ReadonlyMap<string, Completer>
}

export class PromptRegistrationError extends Error {
  override readonly name = 'PromptRegistrationError'
}

const NO_ARGS = Type.Object({})
const MAX_REPORTED_PROBLEMS = 5

/** The prompts a server offers; each prompt's TypeBox `args` is both its published arguments and its validator. */
export class PromptRegistry {
  readonly prompts = new Catalog<RegisteredPrompt>()

  /** @throws PromptRegistrationError when the name is taken or an argument is not a string. */
  prompt<S extends TObject>(
    name: string,
    definition: PromptDefinition<S>,
    handler: PromptHandler<S>,
  ): this {
    const schema: TObject = definition.args ?? NO_ARGS
    const required = new Set(schema.required ?? [])
    const args = Object.entries(schema.properties).map(([argName, prop]) => {
      if (prop.type !== 'string') {
        throw new PromptRegistrationError(
          `argument '${argName}' of prompt '${name}' must be a string`,
        )
      }
      return {
        name: argName,
        ...(prop.title === undefined ? {} : { title: prop.title }),
        ...(prop.description === undefined ? {} : { description: prop.description }),
        required: required.has(argName),
      }
    })
    const descriptor: Record<string, unknown> = {
      name,
      ...(definition.title === undefined ? {} : { title: definition.title }),
      ...(definition.description === undefined ? {} : { description: definition.description }),
      arguments: args,
    }
    const entry: RegisteredPrompt = {
      descriptor,
      check: TypeCompiler.Compile(schema) as TypeCheck<TObject>,
      argumentNames: new Set(Object.keys(schema.properties)),
      handler: handler as PromptHandler<TObject>,
      complete: new Map(Object.entries(definition.complete ?? {})),
    }
    if (!this.prompts.add(name, entry)) {
      throw new PromptRegistrationError(`prompt '${name}' is already registered`)
    }
    return this
  }

  /**
   * Validates the arguments and runs the prompt.
   * @throws ProtocolError -32602 for an unknown prompt or invalid arguments.
   */
  async get(name: string, args: unknown, ctx: HandlerContext): Promise<PromptResult> {
    const prompt = this.prompts.get(name)
    if (!prompt) throw invalidParams(`unknown prompt '${name}'`)
    const input = args ?? {}
    // GetPromptRequest.arguments is { [key: string]: string }: whatever the author's schema
    // leaves open, only declared arguments with string values pass.
    const refused = refusedArguments(prompt.argumentNames, input)
    if (refused.length > 0) {
      throw invalidParams(`arguments of prompt '${name}': ${refused.join('; ')}`)
    }
    if (!prompt.check.Check(input)) {
      const problems: string[] = []
      for (const e of prompt.check.Errors(input)) {
        problems.push(`${e.path || '/'}: ${e.message}`)
        if (problems.length >= MAX_REPORTED_PROBLEMS) break
      }
      throw invalidParams(`arguments of prompt '${name}': ${problems.join('; ')}`)
    }
    const result = await prompt.handler(input, ctx)
    return typeof result === 'string'
      ? { messages: [{ role: 'user', content: { type: 'text', text: result } }] }
      : result
  }
}

/** Arguments the prompt did not declare, and values that are not strings; at most a few. */
function refusedArguments(names: ReadonlySet<string>, input: unknown): string[] {
  const problems: string[] = []
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (!names.has(key)) problems.push(`unknown argument '${key}'`)
    else if (typeof value !== 'string') problems.push(`argument '${key}' must be a string`)
    if (problems.length >= MAX_REPORTED_PROBLEMS) break
  }
  return problems
}

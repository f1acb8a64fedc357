import type { TObject } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { Catalog } from '../protocol/catalog.ts'
import { isPromiseLike } from '../protocol/dispatcher.ts'
import { ToolInputError, ToolRegistrationError, UnknownToolError } from './errors.ts'
import type {
  ToolContext,
  ToolDefinition,
  ToolDescriptor,
  ToolHandler,
  ToolResult,
} from './types.ts'

interface RegisteredTool {
  descriptor: ToolDescriptor
  check: TypeCheck<TObject>
  handler: ToolHandler<TObject>
}

// MCP 2025-11-25 tool names: 1 to 128 of these characters.
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/
const MAX_REPORTED_PROBLEMS = 5

/** The tools a server offers; each tool's TypeBox schema is its published schema and its validator. */
export class ToolRegistry {
  readonly #tools = new Catalog<RegisteredTool>()
  #listCache: ToolDescriptor[] | undefined

  /** Called after a tool is added, removed, enabled or disabled (list_changed). */
  set onChange(listener: (() => void) | undefined) {
    this.#tools.onChange = listener
  }

  /**
   * Registers a tool. The handler receives arguments already validated against `definition.input`.
   * @throws ToolRegistrationError when the name is taken or is not a valid tool name.
   */
  tool<S extends TObject>(
    name: string,
    definition: ToolDefinition<S>,
    handler: ToolHandler<S>,
  ): this {
    if (!TOOL_NAME.test(name)) {
      throw new ToolRegistrationError(`tool name '${name}' must match ${TOOL_NAME.source}`)
    }
    if (this.#tools.registered(name))
      throw new ToolRegistrationError(`tool '${name}' is already registered`)
    const descriptor: ToolDescriptor = {
      name,
      ...(definition.title === undefined ? {} : { title: definition.title }),
      description: definition.description,
      // Round-trip through JSON to publish the plain JSON Schema without TypeBox's symbol keys.
      inputSchema: JSON.parse(JSON.stringify(definition.input)),
    }
    this.#listCache = undefined
    this.#tools.add(name, {
      descriptor,
      check: TypeCompiler.Compile(definition.input) as TypeCheck<TObject>,
      handler: handler as ToolHandler<TObject>,
    })
    return this
  }

  /** Removes a tool; false when there is none of that name. */
  remove(name: string): boolean {
    this.#listCache = undefined
    return this.#tools.remove(name)
  }

  /** Enables or disables a tool: a disabled tool is not listed and cannot be called. */
  setEnabled(name: string, enabled: boolean): boolean {
    this.#listCache = undefined
    return this.#tools.setEnabled(name, enabled)
  }

  /** Whether an enabled tool of this name exists. */
  has(name: string): boolean {
    return this.#tools.get(name) !== undefined
  }

  /** Enabled tools. */
  get size(): number {
    return this.#tools.size
  }

  /** How `tools/list` publishes one tool, if it is registered. */
  descriptor(name: string): ToolDescriptor | undefined {
    return this.#tools.get(name)?.descriptor
  }

  /** What `tools/list` publishes, in registration order. */
  list(): ToolDescriptor[] {
    this.#listCache ??= this.#tools.values().map((t) => t.descriptor)
    return this.#listCache
  }

  /**
   * Validates the arguments and runs the tool.
   * @throws UnknownToolError, ToolInputError before the handler runs; whatever the handler throws.
   */
  async call(name: string, args: unknown, ctx: ToolContext): Promise<ToolResult> {
    return this.callNow(name, args, ctx)
  }

  /**
   * `call` without a promise when the handler answers synchronously: the result at once, or a
   * promise of it. Throws synchronously what is refused before the handler runs.
   */
  callNow(name: string, args: unknown, ctx: ToolContext): ToolResult | Promise<ToolResult> {
    const tool = this.#tools.get(name)
    if (!tool) throw new UnknownToolError(name)
    const input = args ?? {}
    if (!tool.check.Check(input)) {
      const problems: string[] = []
      for (const e of tool.check.Errors(input)) {
        problems.push(`${e.path || '/'}: ${e.message}`)
        if (problems.length >= MAX_REPORTED_PROBLEMS) break
      }
      throw new ToolInputError(name, problems)
    }
    const result = tool.handler(input, ctx)
    return isPromiseLike(result) ? Promise.resolve(result).then(toToolResult) : toToolResult(result)
  }
}

function toToolResult(result: string | ToolResult): ToolResult {
  return typeof result === 'string' ? { content: [{ type: 'text', text: result }] } : result
}

import type { Static, TObject } from '@sinclair/typebox'
import type { Completer, HandlerContext } from '../protocol/context.ts'
import type { ContentBlock } from '../tools/types.ts'

/** One message of a prompt (MCP `PromptMessage`): text, image, audio or an embedded resource. */
export interface PromptMessage {
  role: 'user' | 'assistant'
  content: ContentBlock
}

/** What `prompts/get` answers (MCP `GetPromptResult`). */
export interface PromptResult {
  description?: string
  messages: PromptMessage[]
}

export interface PromptDefinition<S extends TObject> {
  title?: string
  description?: string
  /**
   * TypeBox object of string properties: published as the prompt's `arguments` (name,
   * description, required) and compiled into the validator of `prompts/get`.
   */
  args?: S
  /** Completion for arguments, by argument name. */
  complete?: Record<string, Completer>
}

/** A handler may return a plain string (one user text message) or a full result. */
export type PromptHandler<S extends TObject> = (
  args: Static<S>,
  ctx: HandlerContext,
) => Promise<PromptResult | string> | PromptResult | string

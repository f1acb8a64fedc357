import type { Static, TObject } from '@sinclair/typebox'
import type { HandlerContext } from '../protocol/context.ts'

/** One item of a tool result's `content` array (MCP `ContentBlock`). */
export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: string }
  | { type: 'audio'; data: string; mimeType: string }
  | { type: 'resource_link'; uri: string; name: string; mimeType?: string }
  | {
      type: 'resource'
      resource: { uri: string; mimeType?: string } & ({ text: string } | { blob: string })
    }

/** What `tools/call` answers (MCP `CallToolResult`). */
export interface ToolResult {
  content: ContentBlock[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
}

/**
 * What a tool handler sees besides its arguments: the same context prompts and resource reads get
 * (`signal`, `progress`, `log`, `elicit`, `sample`, `listRoots`).
 */
export type ToolContext = HandlerContext

export interface ToolDefinition<S extends TObject> {
  description: string
  /** TypeBox object schema: published as `inputSchema` and compiled into the argument validator. */
  input: S
  title?: string
}

/** A handler may return a plain string (one text block) or a full result. */
export type ToolHandler<S extends TObject> = (
  args: Static<S>,
  ctx: ToolContext,
) => Promise<ToolResult | string> | ToolResult | string

/** How a tool is listed by `tools/list`. */
export interface ToolDescriptor {
  name: string
  title?: string
  description: string
  inputSchema: unknown
}

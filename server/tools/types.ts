import type { Static, TObject } from '@sinclair/typebox'

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

/** What a tool handler sees besides its arguments. */
export interface ToolContext {
  /** Fires when the client cancels the call (notifications/cancelled) or its session ends. */
  readonly signal: AbortSignal
  readonly sessionId: string
  readonly requestId: string | number
  /**
   * Reports progress as `notifications/progress` when the caller asked for it (a
   * `_meta.progressToken`); does nothing otherwise.
   */
  progress(progress: number, total?: number, message?: string): void
}

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

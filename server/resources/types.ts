import type { Completer, HandlerContext } from '../protocol/context.ts'

/** How a resource is listed (MCP `Resource` without its `uri`). */
export interface ResourceMeta {
  name: string
  title?: string
  description?: string
  mimeType?: string
  /** Size in bytes, when known. */
  size?: number
}

/** One item of `resources/read`'s `contents` (MCP `TextResourceContents` or `BlobResourceContents`). */
export type ResourceContents = { uri: string; mimeType?: string } & (
  | { text: string }
  | { blob: string }
)

/**
 * What a read handler returns: text, bytes (sent base64 as a blob), or the full contents list.
 * Text and bytes carry the registration's `mimeType`.
 */
export type ReadReturn = string | Uint8Array | { contents: ResourceContents[] }

export type ResourceReader = (uri: string, ctx: HandlerContext) => Promise<ReadReturn> | ReadReturn

/** A template's variables, decoded, by name. */
export type TemplateVariables = ReadonlyMap<string, string>

export type TemplateReader = (
  uri: string,
  variables: TemplateVariables,
  ctx: HandlerContext,
) => Promise<ReadReturn> | ReadReturn

export interface ResourceTemplateMeta extends ResourceMeta {
  /** Completion for template variables, by variable name. */
  complete?: Record<string, Completer>
}

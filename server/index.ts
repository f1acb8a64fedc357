/**
 * sluice's public API: `import { createServer } from 'sluice'`. What is exported here is a
 * promise kept across versions; everything else in server/ is internal.
 */
export { type Static, type TObject, Type } from '@sinclair/typebox'
export { type Config, ConfigError } from './config.ts'
export {
  type CreateServerOptions,
  createServer,
  type ListeningAddress,
  type Sluice,
} from './create-server.ts'
export type { Logger } from './observability/log.ts'
export type {
  PromptDefinition,
  PromptHandler,
  PromptMessage,
  PromptResult,
} from './prompts/types.ts'
export {
  type ChangeBus,
  type ChangeEvent,
  InProcessChangeBus,
} from './protocol/change-bus.ts'
export type {
  Completer,
  CompletionContext,
  ElicitParams,
  ElicitResult,
  HandlerContext,
  LoggingLevel,
  Root,
  SampleParams,
  SampleResult,
} from './protocol/context.ts'
export { MissingClientCapabilityError } from './protocol/context.ts'
export type { CacheHint, CachePolicy } from './protocol/modern-results.ts'
export type {
  ReadReturn,
  ResourceContents,
  ResourceMeta,
  ResourceReader,
  ResourceTemplateMeta,
  TemplateReader,
  TemplateVariables,
} from './resources/types.ts'
export type { RootsListener } from './roots/feature.ts'
export type { RegistrationKind } from './server.ts'
export type {
  ContentBlock,
  ToolContext,
  ToolDefinition,
  ToolHandler,
  ToolResult,
} from './tools/types.ts'

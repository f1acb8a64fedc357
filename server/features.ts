import { CompletionFeature } from './completion/feature.ts'
import type { Config } from './config.ts'
import { LoggingFeature } from './logging/feature.ts'
import type { Logger } from './observability/log.ts'
import type { ServerMetrics } from './observability/server-metrics.ts'
import { PromptsFeature } from './prompts/feature.ts'
import type { PromptRegistry } from './prompts/registry.ts'
import { Dispatcher } from './protocol/dispatcher.ts'
import { announcedListChanged, broadcast, type PeerDirectory } from './protocol/feature.ts'
import { OutboundRequests } from './protocol/outbound-requests.ts'
import type { McpPeer } from './protocol/peer.ts'
import { ResourcesFeature } from './resources/feature.ts'
import type { ResourceRegistry } from './resources/registry.ts'
import { RootsFeature } from './roots/feature.ts'
import type { SessionRegistry } from './session/registry.ts'
import { ToolsFeature } from './tools/feature.ts'
import type { ToolRegistry } from './tools/registry.ts'

/** What `remove` and `setEnabled` act on. */
export type RegistrationKind = 'tool' | 'resource' | 'resourceTemplate' | 'prompt'

/** Input requests one session may have waiting for the client. */
export const MAX_INPUT_REQUESTS_PER_SESSION = 16

export interface FeatureDeps {
  config: Config
  metrics: ServerMetrics
  logger: Logger
  tools: ToolRegistry
  resources: ResourceRegistry
  prompts: PromptRegistry
  sessions: SessionRegistry
  serverInfo: { name: string; version: string }
  /** Also told of every list change (`tools`, `resources`, `prompts`): the 2026 listen streams. */
  onListChanged?: (what: 'tools' | 'resources' | 'prompts') => void
}

/**
 * Plugs the features (tools, resources, prompts, completion, logging) and the outbound requests
 * into one dispatcher, with their metrics and list_changed notifications.
 */
export function composeFeatures(deps: FeatureDeps): {
  dispatcher: Dispatcher
  inputRequests: OutboundRequests
  resources: ResourcesFeature
  roots: RootsFeature
} {
  const { config, metrics, logger } = deps
  const inputRequests = new OutboundRequests({
    timeoutMs: config.inputRequestTimeoutMs,
    maxPerSession: MAX_INPUT_REQUESTS_PER_SESSION,
    requests: metrics.registry.counter(
      'sluice_input_requests_total',
      'Server-to-client requests (elicitation, sampling, roots), by method and outcome.',
    ),
    ignoredResponses: metrics.registry.counter(
      'sluice_input_responses_ignored_total',
      'Client responses for unknown or already settled input request ids.',
    ),
    limitRefusals: metrics.limitRefusals,
  })
  metrics.registry.gauge(
    'sluice_input_requests_pending',
    'Server-to-client requests waiting for the client.',
    () => inputRequests.pending,
  )
  const directory: PeerDirectory = { peers: () => initializedPeers(deps.sessions) }
  const tools = new ToolsFeature({
    tools: deps.tools,
    toolCalls: metrics.toolCalls,
    limitRefusals: metrics.limitRefusals,
    maxCallsPerSession: config.maxCallsPerSession,
    logger,
  })
  const resources = new ResourcesFeature(deps.resources, directory, metrics.limitRefusals)
  // One list_changed per kind and tick: registering a hundred tools at once sends one. Only to
  // sessions that were announced listChanged for the kind at their initialize.
  const scheduled = new Set<string>()
  const listChanged = (what: 'tools' | 'resources' | 'prompts') => () => {
    if (scheduled.has(what)) return
    scheduled.add(what)
    queueMicrotask(() => {
      scheduled.delete(what)
      broadcast(
        directory,
        { jsonrpc: '2.0', method: `notifications/${what}/list_changed` },
        (peer) => announcedListChanged(peer, what),
      )
      deps.onListChanged?.(what)
    })
  }
  deps.tools.onChange = listChanged('tools')
  deps.resources.resources.onChange = listChanged('resources')
  deps.resources.templates.onChange = listChanged('resources')
  deps.prompts.prompts.onChange = listChanged('prompts')
  const roots = new RootsFeature(logger)
  const dispatcher = new Dispatcher({
    features: [
      tools,
      resources,
      new PromptsFeature(deps.prompts),
      new CompletionFeature(deps.prompts, deps.resources),
      new LoggingFeature(),
      roots,
    ],
    input: inputRequests,
    directCall: (method) => tools.directCall(method),
    serverInfo: deps.serverInfo,
    logger,
  })
  return { dispatcher, inputRequests, resources, roots }
}

/** The catalog of one kind of registration. */
export function registrations(
  registries: { tools: ToolRegistry; resources: ResourceRegistry; prompts: PromptRegistry },
  kind: RegistrationKind,
): { remove(name: string): boolean; setEnabled(name: string, enabled: boolean): boolean } {
  if (kind === 'tool') return registries.tools
  if (kind === 'resource') return registries.resources.resources
  if (kind === 'resourceTemplate') return registries.resources.templates
  return registries.prompts.prompts
}

function* initializedPeers(sessions: SessionRegistry): Iterable<McpPeer> {
  for (const id of sessions.ids()) {
    const session = sessions.get(id)
    if (session && !session.isClosed && session.state.protocolVersion) yield session
  }
}

import { isLoggingLevel, LOGGING_LEVELS } from '../protocol/context.ts'
import { invalidParams } from '../protocol/errors.ts'
import type { McpFeature, MethodHandler } from '../protocol/feature.ts'

/**
 * logging/setLevel: the session's floor for `ctx.log` (which sends `notifications/message` on
 * the stream of the request that logged).
 */
export class LoggingFeature implements McpFeature {
  readonly methods = new Map<string, MethodHandler>([
    [
      'logging/setLevel',
      (req, _ctx, peer) => {
        const level = req.params?.level
        if (!isLoggingLevel(level)) {
          throw invalidParams(`"level" must be one of ${LOGGING_LEVELS.join(', ')}`)
        }
        peer.state.logLevel = level
        return {}
      },
    ],
  ])

  capabilities(): Record<string, unknown> {
    return { logging: {} }
  }
}

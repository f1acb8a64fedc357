import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { LOG_LEVELS } from './observability/log.ts'

const Int = (min: number, max: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, description })

/** Every setting sluice reads, with its flag, its environment variable and what it accepts. */
export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1, description: 'address to listen on' }),
  port: Int(0, 65535, 'TCP port; 0 lets the OS pick'),
  keepaliveMs: Int(100, 3_600_000, 'quiet time before an SSE keepalive comment'),
  sendDeadlineMs: Int(100, 3_600_000, 'time a reader may leave a frame untaken before eviction'),
  maxQueueMessages: Int(1, 1_000_000, 'messages queued per session before it is closed'),
  maxQueueBytes: Int(1024, 1 << 30, 'bytes queued per session before it is closed'),
  maxBodyBytes: Int(1, 1 << 30, 'largest POST body accepted'),
  sessionTtlMs: Int(1000, 86_400_000, 'idle time before a session with no open stream expires'),
  logLevel: Type.Union(
    LOG_LEVELS.map((l) => Type.Literal(l)),
    { description: LOG_LEVELS.join(', ') },
  ),
})
export type Config = Static<typeof ConfigSchema>

export const DEFAULT_CONFIG: Config = {
  host: '127.0.0.1',
  port: 3000,
  keepaliveMs: 15_000,
  sendDeadlineMs: 30_000,
  maxQueueMessages: 256,
  maxQueueBytes: 8 * 1024 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
  sessionTtlMs: 5 * 60_000,
  logLevel: 'info',
}

type Key = keyof Config

/** CLI flag and environment variable of each setting. */
export const SETTINGS: ReadonlyArray<{ key: Key; flag: string; env: string }> = [
  { key: 'host', flag: '--host', env: 'HOST' },
  { key: 'port', flag: '--port', env: 'PORT' },
  { key: 'keepaliveMs', flag: '--keepalive-ms', env: 'KEEPALIVE_MS' },
  { key: 'sendDeadlineMs', flag: '--send-deadline-ms', env: 'SEND_DEADLINE_MS' },
  { key: 'maxQueueMessages', flag: '--max-queue-messages', env: 'MAX_QUEUE_MESSAGES' },
  { key: 'maxQueueBytes', flag: '--max-queue-bytes', env: 'MAX_QUEUE_BYTES' },
  { key: 'maxBodyBytes', flag: '--max-body-bytes', env: 'MAX_BODY_BYTES' },
  { key: 'sessionTtlMs', flag: '--session-ttl-ms', env: 'SESSION_TTL_MS' },
  { key: 'logLevel', flag: '--log-level', env: 'LOG_LEVEL' },
]

/** A setting with a value it does not accept; the message names the setting and what it accepts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/**
 * Reads the configuration from CLI flags (`--port 8080` or `--port=8080`), then the environment,
 * then defaults; validated once. `--debug` is `--log-level debug`.
 * @throws ConfigError naming the first bad setting.
 */
export function loadConfig(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Config {
  const flags = parseFlags(argv)
  const raw: Record<string, unknown> = { ...DEFAULT_CONFIG }
  for (const { key, flag, env: name } of SETTINGS) {
    const value = flags.get(flag) ?? env[name]
    if (value !== undefined) raw[key] = value
  }
  if (flags.has('--debug') || env.DEBUG === '1' || env.DEBUG === 'true') raw.logLevel = 'debug'
  const config = Value.Convert(ConfigSchema, raw) as Record<string, unknown>
  for (const { key, flag, env: name } of SETTINGS) {
    const schema = ConfigSchema.properties[key] as TSchema
    if (!Value.Check(schema, config[key])) {
      throw new ConfigError(
        `Invalid configuration: ${flag} (${name}) must be ${describe(schema)}; got ${JSON.stringify(raw[key])}`,
      )
    }
  }
  return config as Config
}

const BOOLEAN_FLAGS = new Set(['--debug'])

function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set([...SETTINGS.map((s) => s.flag), ...BOOLEAN_FLAGS])
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if (!known.has(name)) {
      throw new ConfigError(
        `Invalid configuration: unknown option '${name}'; known: ${[...known].join(', ')}`,
      )
    }
    if (BOOLEAN_FLAGS.has(name)) {
      flags.set(name, 'true')
      continue
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined) throw new ConfigError(`Invalid configuration: ${name} needs a value`)
    flags.set(name, value)
  }
  return flags
}

function describe(schema: TSchema): string {
  if (schema.type === 'integer') {
    return `an integer from ${schema.minimum} to ${schema.maximum} (${schema.description})`
  }
  if (schema.type === 'string') return `a non-empty string (${schema.description})`
  return `one of ${schema.description}`
}

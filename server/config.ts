import { readFileSync } from 'node:fs'
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { type FlagSpec, lastValue, parseFlags, UsageError } from '../cli/flags.ts'
import { LOG_LEVELS } from './observability/log.ts'

const Int = (min: number, max: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, description })
const List = (description: string) => Type.Array(Type.String({ minLength: 1 }), { description })

/** Every setting sluice reads, with its flag, its environment variable and what it accepts. */
export const ConfigSchema = Type.Object({
  host: Type.String({ minLength: 1, description: 'address to listen on' }),
  port: Int(0, 65535, 'TCP port; 0 lets the OS pick'),
  keepaliveMs: Int(100, 3_600_000, 'quiet time before an SSE keepalive comment'),
  sendDeadlineMs: Int(100, 3_600_000, 'time a reader may leave a frame untaken before eviction'),
  maxQueueMessages: Int(1, 1_000_000, 'messages queued per stream before its session is closed'),
  maxQueueBytes: Int(1024, 1 << 30, 'unsent bytes per session before it is closed'),
  maxBufferedBytes: Int(
    1 << 20,
    2 ** 40,
    'unsent and replay bytes of all sessions together before load is shed',
  ),
  maxBodyBytes: Int(1, 1 << 30, 'largest POST body accepted'),
  sessionTtlMs: Int(1000, 86_400_000, 'idle time before a session with no open stream expires'),
  maxSessions: Int(1, 10_000_000, 'open sessions before new ones get 503'),
  maxSessionsPerToken: Int(
    0,
    10_000_000,
    'open sessions per credential before new ones get 429; 0: no quota',
  ),
  replayEvents: Int(
    0,
    1_000_000,
    'sent events each Streamable HTTP stream keeps for Last-Event-ID',
  ),
  replayBytes: Int(0, 1 << 30, 'bytes of sent events each session keeps for Last-Event-ID'),
  maxCallsPerSession: Int(1, 1_000_000, 'tool calls in flight per session before more are refused'),
  drainTimeoutMs: Int(0, 3_600_000, 'how long shutdown waits for in-flight tool calls'),
  inputRequestTimeoutMs: Int(
    100,
    3_600_000,
    'how long a client gets to answer an elicitation, sampling or roots request',
  ),
  authTokens: List('bearer tokens, comma-separated'),
  authTokenFile: Type.String({ description: 'path of a file with one bearer token per line' }),
  corsOrigins: List('allowed CORS origins, comma-separated, or *'),
  allowedOrigins: List('Origin values Streamable HTTP accepts beyond localhost origins, or *'),
  allowedHosts: List('Host values (host:port) Streamable HTTP accepts beyond its own'),
  preferJson: Type.Boolean({ description: 'true or false' }),
  responseMode: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('sse')], {
    description: 'auto, json, sse',
  }),
  maxSubscriptions: Int(0, 10_000_000, 'subscriptions/listen streams open at once (2026-07-28)'),
  cacheTtlMs: Int(0, 86_400_000, 'ttlMs of cacheable 2026-07-28 results (lists, discover)'),
  maxCallsInFlight: Int(
    1,
    10_000_000,
    'handlers running at once over the server before new 2026-07-28 requests get 503',
  ),
  requestStateKey: Type.String({
    description:
      'key that signs 2026-07-28 requestState (HMAC-SHA256); empty: a random key per process, so only this process accepts its states',
  }),
  cacheScope: Type.Union([Type.Literal('public'), Type.Literal('private')], {
    description: 'public, private',
  }),
  workers: Int(1, 256, 'processes serving the port (more than 1 needs --redis-url)'),
  profile: Type.Union([Type.Literal('default'), Type.Literal('conformance')], {
    description: 'default, conformance',
  }),
  redisUrl: Type.String({
    pattern: '^(rediss?://\\S+)?$',
    description:
      'Redis URL (redis://host:port) shared by the instances of one cluster; empty: one process, no Redis',
  }),
  instanceId: Type.String({
    pattern: '^[A-Za-z0-9_.-]{0,64}$',
    description: 'this instance in the cluster (letters, digits, _ . -); empty: random per process',
  }),
  instanceTtlMs: Int(
    300,
    600_000,
    "heartbeat TTL: within it a dead instance's sessions answer 404 on the others",
  ),
  eventStore: Type.Union([Type.Literal('on'), Type.Literal('off')], {
    description: 'on, off',
  }),
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
  maxBufferedBytes: 256 * 1024 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
  sessionTtlMs: 5 * 60_000,
  maxSessions: 10_000,
  maxSessionsPerToken: 0,
  replayEvents: 128,
  replayBytes: 4 * 1024 * 1024,
  maxCallsPerSession: 64,
  drainTimeoutMs: 30_000,
  inputRequestTimeoutMs: 60_000,
  authTokens: [],
  authTokenFile: '',
  corsOrigins: [],
  allowedOrigins: [],
  allowedHosts: [],
  preferJson: false,
  responseMode: 'auto',
  maxSubscriptions: 10_000,
  cacheTtlMs: 60_000,
  maxCallsInFlight: 10_000,
  requestStateKey: '',
  cacheScope: 'public',
  workers: 1,
  profile: 'default',
  redisUrl: '',
  instanceId: '',
  instanceTtlMs: 3_000,
  eventStore: 'on',
  logLevel: 'info',
}

type Key = keyof Config

/** CLI flag and environment variable of each setting. List settings may repeat their flag. */
export const SETTINGS: ReadonlyArray<{ key: Key; flag: string; env: string }> = [
  { key: 'host', flag: '--host', env: 'HOST' },
  { key: 'port', flag: '--port', env: 'PORT' },
  { key: 'keepaliveMs', flag: '--keepalive-ms', env: 'KEEPALIVE_MS' },
  { key: 'sendDeadlineMs', flag: '--send-deadline-ms', env: 'SEND_DEADLINE_MS' },
  { key: 'maxQueueMessages', flag: '--max-queue-messages', env: 'MAX_QUEUE_MESSAGES' },
  { key: 'maxQueueBytes', flag: '--max-queue-bytes', env: 'MAX_QUEUE_BYTES' },
  { key: 'maxBufferedBytes', flag: '--max-buffered-bytes', env: 'MAX_BUFFERED_BYTES' },
  { key: 'maxBodyBytes', flag: '--max-body-bytes', env: 'MAX_BODY_BYTES' },
  { key: 'sessionTtlMs', flag: '--session-ttl-ms', env: 'SESSION_TTL_MS' },
  { key: 'maxSessions', flag: '--max-sessions', env: 'MAX_SESSIONS' },
  { key: 'maxSessionsPerToken', flag: '--max-sessions-per-token', env: 'MAX_SESSIONS_PER_TOKEN' },
  { key: 'replayEvents', flag: '--replay-events', env: 'REPLAY_EVENTS' },
  { key: 'replayBytes', flag: '--replay-bytes', env: 'REPLAY_BYTES' },
  { key: 'maxCallsPerSession', flag: '--max-calls-per-session', env: 'MAX_CALLS_PER_SESSION' },
  { key: 'drainTimeoutMs', flag: '--drain-timeout-ms', env: 'DRAIN_TIMEOUT_MS' },
  {
    key: 'inputRequestTimeoutMs',
    flag: '--input-request-timeout-ms',
    env: 'INPUT_REQUEST_TIMEOUT_MS',
  },
  { key: 'authTokens', flag: '--auth-token', env: 'AUTH_TOKEN' },
  { key: 'authTokenFile', flag: '--auth-token-file', env: 'AUTH_TOKEN_FILE' },
  { key: 'corsOrigins', flag: '--cors-origins', env: 'CORS_ORIGINS' },
  { key: 'allowedOrigins', flag: '--allowed-origins', env: 'ALLOWED_ORIGINS' },
  { key: 'allowedHosts', flag: '--allowed-hosts', env: 'ALLOWED_HOSTS' },
  { key: 'preferJson', flag: '--prefer-json', env: 'PREFER_JSON' },
  { key: 'responseMode', flag: '--response-mode', env: 'RESPONSE_MODE' },
  { key: 'maxSubscriptions', flag: '--max-subscriptions', env: 'MAX_SUBSCRIPTIONS' },
  { key: 'cacheTtlMs', flag: '--cache-ttl-ms', env: 'CACHE_TTL_MS' },
  { key: 'maxCallsInFlight', flag: '--max-calls-in-flight', env: 'MAX_CALLS_IN_FLIGHT' },
  { key: 'requestStateKey', flag: '--request-state-key', env: 'REQUEST_STATE_KEY' },
  { key: 'cacheScope', flag: '--cache-scope', env: 'CACHE_SCOPE' },
  { key: 'workers', flag: '--workers', env: 'WORKERS' },
  { key: 'profile', flag: '--profile', env: 'PROFILE' },
  { key: 'redisUrl', flag: '--redis-url', env: 'REDIS_URL' },
  { key: 'instanceId', flag: '--instance-id', env: 'INSTANCE_ID' },
  { key: 'instanceTtlMs', flag: '--instance-ttl-ms', env: 'INSTANCE_TTL_MS' },
  { key: 'eventStore', flag: '--event-store', env: 'EVENT_STORE' },
  { key: 'logLevel', flag: '--log-level', env: 'LOG_LEVEL' },
]

/** A setting with a value it does not accept; the message names the setting and what it accepts. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

const isList = (key: Key) => ConfigSchema.properties[key].type === 'array'
const isSwitch = (key: Key) => ConfigSchema.properties[key].type === 'boolean'

const DEBUG_FLAG: FlagSpec = {
  flag: '--debug',
  kind: 'switch',
  env: 'DEBUG',
  description: 'same as --log-level debug',
  defaultText: 'off',
}

/** Help lines where the schema's description (also used in error messages) is only the values. */
const HELP_LINES: Partial<Record<Key, string>> = {
  preferJson: 'answer Streamable HTTP requests as JSON when the client accepts JSON and SSE',
  profile:
    'tool profile: default, or conformance (adds the conformance fixture tools, resources and prompts)',
  responseMode:
    'how 2026-07-28 requests are answered: auto (JSON unless the handler sends progress or logs first), json, sse',
  cacheScope: 'cacheScope of cacheable 2026-07-28 results: public or private',
  eventStore:
    "in a cluster, keep each 2025 session's standalone stream in Redis so another instance can take the session over when its home dies: on, off",
  logLevel: 'least severe log level written: debug, info, warn, error',
}

/** The flag of every setting, with its environment variable and default, for the parser and --help. */
export function configFlags(): FlagSpec[] {
  const settings = SETTINGS.map(({ key, flag, env }): FlagSpec => {
    const fallback = DEFAULT_CONFIG[key]
    const shown = Array.isArray(fallback) ? fallback.join(',') : String(fallback)
    return {
      flag,
      env,
      kind: isList(key) ? 'list' : isSwitch(key) ? 'switch' : 'value',
      description: HELP_LINES[key] ?? String(ConfigSchema.properties[key].description ?? ''),
      defaultText: shown === '' ? 'none' : shown,
    }
  })
  return [...settings, DEBUG_FLAG]
}

/**
 * Reads the configuration from CLI flags (`--port 8080` or `--port=8080`), then the environment,
 * then defaults; validated once. `--debug` is `--log-level debug`. Tokens from
 * `--auth-token-file` join those of `--auth-token`.
 * @throws ConfigError naming the first bad setting.
 */
export function loadConfig(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): Config {
  let parsed: ReturnType<typeof parseFlags>
  try {
    parsed = parseFlags(argv, configFlags(), env)
  } catch (err) {
    if (err instanceof UsageError) throw new ConfigError(`Invalid configuration: ${err.message}`)
    throw err
  }
  if (parsed.help) throw new ConfigError('Invalid configuration: --help is not a setting')
  return configFromFlags(parsed.values)
}

/**
 * The configuration from what the shared parser read for `configFlags()` (flags and environment
 * already merged); defaults fill the rest; validated once.
 * @throws ConfigError naming the first bad setting.
 */
export function configFromFlags(values: Map<string, string[]>): Config {
  const raw: Record<string, unknown> = { ...DEFAULT_CONFIG }
  for (const { key, flag } of SETTINGS) {
    const value = values.get(flag)
    if (value === undefined) continue
    raw[key] = isList(key) ? value : value[value.length - 1]
  }
  // DEBUG is also read by other tools (`DEBUG=express:*`): only 1 and true mean ours.
  const debug = lastValue(values, DEBUG_FLAG.flag)
  if (debug === '1' || debug === 'true') raw.logLevel = 'debug'
  return validateConfig(Value.Convert(ConfigSchema, raw) as Record<string, unknown>, raw)
}

/**
 * Checks every setting of `config` (defaults already filled in) and reads the token file.
 * @param given what the caller gave, for the message (defaults to `config`).
 * @throws ConfigError naming the first bad setting.
 */
export function validateConfig(
  config: Record<string, unknown>,
  given: Record<string, unknown> = config,
): Config {
  for (const { key, flag, env: name } of SETTINGS) {
    const schema = ConfigSchema.properties[key] as TSchema
    if (!Value.Check(schema, config[key])) {
      throw new ConfigError(
        `Invalid configuration: ${flag} (${name}) must be ${describe(schema)}; got ${JSON.stringify(given[key])}`,
      )
    }
  }
  const result = { ...config } as Config
  if (result.authTokenFile) {
    result.authTokens = [...result.authTokens, ...readTokenFile(result.authTokenFile)]
  }
  return result
}

/** One token per line; blank lines and lines starting with # are skipped. */
function readTokenFile(path: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration: --auth-token-file (AUTH_TOKEN_FILE) cannot be read: ${(err as Error).message}`,
    )
  }
  const tokens = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  if (tokens.length === 0) {
    throw new ConfigError(
      `Invalid configuration: --auth-token-file (AUTH_TOKEN_FILE) ${path} holds no token`,
    )
  }
  return tokens
}

function describe(schema: TSchema): string {
  if (schema.type === 'integer') {
    return `an integer from ${schema.minimum} to ${schema.maximum} (${schema.description})`
  }
  if (schema.type === 'string') return `a string (${schema.description})`
  if (schema.type === 'array') return `a list of non-empty strings (${schema.description})`
  if (schema.type === 'boolean') return `a boolean (${schema.description})`
  return `one of ${schema.description}`
}

import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { type FlagSpec, parseFlags, renderHelp, UsageError } from '../cli/flags.ts'

export const SCENARIOS = ['hold', 'storm', 'churn', 'rpc', 'slow'] as const
export type ScenarioName = (typeof SCENARIOS)[number]
/** What `--transport modern` runs: stateless calls, held listen streams, aborts in every phase. */
export const MODERN_SCENARIOS = ['rpc', 'hold', 'storm'] as const

const Int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum })

/** Every flag of `bun run loadtest`; each is `--kebab-case` on the command line. */
export const LoadtestOptionsSchema = Type.Object({
  target: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  targetPid: Type.Optional(Type.Array(Int(1, 2 ** 22), { minItems: 1 })),
  metricsUrl: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  postTarget: Type.Union([Type.Literal('other'), Type.Literal('same')]),
  allowRemote: Type.Boolean(),
  transport: Type.Union([Type.Literal('sse'), Type.Literal('streamable'), Type.Literal('modern')]),
  scenarios: Type.Array(Type.Union(SCENARIOS.map((s) => Type.Literal(s))), { minItems: 1 }),
  sourceAddresses: Int(1, 254),
  stepTimeoutMs: Int(100, 600_000),
  holdSessions: Int(1, 100_000),
  holdConcurrency: Int(1, 10_000),
  holdTimeCapMs: Int(1000, 3_600_000),
  stormConnections: Int(1, 1_000_000),
  stormConcurrency: Int(1, 10_000),
  stormTimeCapMs: Int(1000, 3_600_000),
  seed: Int(0, 2 ** 32 - 1),
  churnDurationMs: Int(100, 3_600_000),
  churnConcurrency: Int(1, 10_000),
  churnMaxCycles: Int(1, 100_000_000),
  rpcSessions: Int(1, 10_000),
  rpcDurationMs: Int(100, 3_600_000),
  rpcMaxCallsPerSession: Int(1, 100_000_000),
  slowSessions: Int(1, 10_000),
  slowMessageBytes: Int(1, 16 * 1024 * 1024),
  slowMessagesPerSession: Int(1, 100_000),
  slowEvictTimeoutMs: Int(1000, 3_600_000),
  slowMaxRssGrowthMib: Int(1, 1_000_000),
  serverSendDeadlineMs: Int(100, 3_600_000),
  serverSessionTtlMs: Int(1000, 86_400_000),
  serverMaxBufferedBytes: Int(1 << 20, 2 ** 40),
  settleTimeoutMs: Int(100, 3_600_000),
  idleWindowMs: Int(100, 600_000),
  maxIdleCpuPercent: Type.Number({ minimum: 0, maximum: 100 }),
  memoryToleranceMib: Int(0, 1_000_000),
  fdTolerance: Int(0, 1_000_000),
  json: Type.Optional(Type.String()),
  markdown: Type.Optional(Type.String()),
})
export type LoadtestOptions = Static<typeof LoadtestOptionsSchema>

export const DEFAULT_OPTIONS: LoadtestOptions = {
  postTarget: 'other',
  allowRemote: false,
  transport: 'sse',
  scenarios: [...SCENARIOS],
  sourceAddresses: 8,
  stepTimeoutMs: 30_000,
  holdSessions: 5_000,
  holdConcurrency: 500,
  holdTimeCapMs: 180_000,
  stormConnections: 2_000,
  stormConcurrency: 200,
  stormTimeCapMs: 180_000,
  seed: 0,
  churnDurationMs: 15_000,
  churnConcurrency: 100,
  churnMaxCycles: 1_000_000,
  rpcSessions: 50,
  rpcDurationMs: 10_000,
  rpcMaxCallsPerSession: 1_000_000,
  slowSessions: 20,
  slowMessageBytes: 256 * 1024,
  slowMessagesPerSession: 24,
  slowEvictTimeoutMs: 90_000,
  slowMaxRssGrowthMib: 512,
  serverSendDeadlineMs: 2_000,
  serverSessionTtlMs: 5_000,
  serverMaxBufferedBytes: 128 * 1024 * 1024,
  settleTimeoutMs: 30_000,
  idleWindowMs: 5_000,
  maxIdleCpuPercent: 2,
  memoryToleranceMib: 256,
  fdTolerance: 16,
}

/** A bad command line or setting; the message names the flag. */
export class OptionsError extends Error {
  override readonly name = 'OptionsError'
}

const kebab = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
const envName = (key: string) => `LOADTEST_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`

type Key = keyof LoadtestOptions

/** Options that take a comma-separated list (or a repeated flag). */
const LIST_KEYS: ReadonlySet<Key> = new Set(['scenarios', 'target', 'targetPid', 'metricsUrl'])

/** One flag per option, `--kebab-case`, with its `LOADTEST_SNAKE_CASE` environment variable. */
export function loadtestFlags(): FlagSpec[] {
  return (Object.keys(LoadtestOptionsSchema.properties) as Key[]).map((key) => {
    const schema = LoadtestOptionsSchema.properties[key]
    const fallback = key === 'seed' ? 'the clock, printed' : DEFAULT_OPTIONS[key]
    return {
      flag: kebab(key),
      env: envName(key),
      kind: LIST_KEYS.has(key) ? 'list' : schema.type === 'boolean' ? 'switch' : 'value',
      description: FLAG_HELP[key],
      ...(fallback === undefined
        ? {}
        : { defaultText: Array.isArray(fallback) ? fallback.join(',') : String(fallback) }),
    }
  })
}

/**
 * Parses the command line (then `LOADTEST_*` variables) with the shared parser; validated with
 * TypeBox. @returns `'help'` for --help or -h.
 * @throws OptionsError naming the unknown flag or the first bad value.
 */
export function parseOptions(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): LoadtestOptions | 'help' {
  let parsed: ReturnType<typeof parseFlags>
  try {
    parsed = parseFlags(argv, loadtestFlags(), env)
  } catch (err) {
    if (err instanceof UsageError) throw new OptionsError(err.message)
    throw err
  }
  if (parsed.help) return 'help'
  const raw: Record<string, unknown> = { ...DEFAULT_OPTIONS, seed: Date.now() % 2 ** 32 }
  for (const key of Object.keys(LoadtestOptionsSchema.properties) as Key[]) {
    const values = parsed.values.get(kebab(key))
    if (values === undefined) continue
    raw[key] = LIST_KEYS.has(key) ? values : values[values.length - 1]
  }
  // The 2026 era has no sessions to churn and pushes nothing unasked (slow): its scenarios differ.
  if (raw.transport === 'modern' && !parsed.values.has('--scenarios')) {
    raw.scenarios = [...MODERN_SCENARIOS]
  }
  const options = Value.Convert(LoadtestOptionsSchema, raw)
  const error = Value.Errors(LoadtestOptionsSchema, options).First()
  if (error) {
    const key = error.path.split('/')[1] ?? ''
    throw new OptionsError(`${kebab(key)}: ${error.message} (got ${JSON.stringify(raw[key])})`)
  }
  const chosen = options as LoadtestOptions
  const unfit = chosen.scenarios.filter((s) => !(MODERN_SCENARIOS as readonly string[]).includes(s))
  if (chosen.transport === 'modern' && unfit.length > 0) {
    throw new OptionsError(
      `--scenarios: ${unfit.join(', ')} cannot run with --transport modern (it runs ${MODERN_SCENARIOS.join(', ')})`,
    )
  }
  const targets = chosen.target?.length ?? 0
  if (chosen.targetPid && chosen.targetPid.length !== targets) {
    throw new OptionsError(
      `--target-pid: give one pid per --target, in the same order (${targets} targets, ${chosen.targetPid.length} pids)`,
    )
  }
  if (chosen.metricsUrl && chosen.metricsUrl.length !== 1 && chosen.metricsUrl.length !== targets) {
    throw new OptionsError(
      `--metrics-url: give one URL for the whole deployment or one per --target (${targets} targets, ${chosen.metricsUrl.length} URLs)`,
    )
  }
  return chosen
}

/** `bun run loadtest --help`. */
export function usage(): string {
  return renderHelp({
    usage: ['usage: bun run loadtest [options]      (or: bun loadtest/main.ts [options])'],
    about: [
      'Without --target, starts a local sluice on a free loopback port and loads it. With --target,',
      'loads any MCP server you run (loopback only unless --allow-remote); --target-pid adds its',
      'CPU, memory and fds from /proc; without sluice /metrics, server-side counts are marked n/a.',
      `Scenarios: ${SCENARIOS.join(', ')}. Exit 0 on a passing verdict, 1 on a failing one, 2 on bad usage.`,
    ],
    flags: loadtestFlags(),
  })
}

const FLAG_HELP: Record<Key, string> = {
  target:
    'base URL of a server you run, e.g. http://127.0.0.1:3000; several (comma-separated) are instances of one deployment: sessions are spread over them',
  targetPid:
    "each target's process id, in the same order, to read CPU, memory and fds from /proc (summed)",
  metricsUrl:
    "Prometheus endpoint(s) with sluice metric names: one per target, or one for all (default: each target's /metrics, summed)",
  postTarget:
    "with several targets, where a session's POSTs go: other (the next instance, never the one holding the session's stream: the worst case) or same; 2026-07-28 clients take the instances in turn",
  allowRemote: 'allow a target that is not a loopback address',
  transport:
    'sse (legacy HTTP+SSE, /sse), streamable (Streamable HTTP with 2025 sessions, /mcp) or modern (stateless MCP 2026-07-28 on /mcp: rpc, hold of listen streams, storm)',
  scenarios: `scenarios to run, in order: ${SCENARIOS.join(', ')}`,
  sourceAddresses: 'spread connections over source addresses 127.0.0.1 to 127.0.0.N',
  stepTimeoutMs: 'per-connection wait bound (first event, responses)',
  holdSessions: 'hold: sessions opened at once',
  holdConcurrency: 'hold: connection attempts in flight',
  holdTimeCapMs: 'hold: time bound',
  stormConnections: 'storm: connections aborted in a random phase',
  stormConcurrency: 'storm: connections in flight',
  stormTimeCapMs: 'storm: time bound',
  seed: 'storm: seed of the phase plan',
  churnDurationMs: 'churn: duration',
  churnConcurrency: 'churn: connections in flight',
  churnMaxCycles: 'churn: bound on open/abort cycles',
  rpcSessions: 'rpc: sessions calling echo',
  rpcDurationMs: 'rpc: duration',
  rpcMaxCallsPerSession: 'rpc: bound on calls per session',
  slowSessions: 'slow: sessions that stop reading',
  slowMessageBytes: 'slow: size of each pushed message',
  slowMessagesPerSession: 'slow: messages pushed per session',
  slowEvictTimeoutMs: 'slow: how long to wait for every eviction',
  slowMaxRssGrowthMib: 'slow: server memory growth allowed',
  serverSendDeadlineMs: 'local sluice only: its --send-deadline-ms',
  serverSessionTtlMs: 'local sluice only: its --session-ttl-ms',
  serverMaxBufferedBytes:
    'local sluice only: its --max-buffered-bytes (slow: RSS growth must stay within it plus what the pushes carry)',
  settleTimeoutMs: 'verdict: how long the server may take to settle',
  idleWindowMs: 'verdict: idle window for the CPU check',
  maxIdleCpuPercent: 'verdict: idle CPU allowed, % of one core (per target: several add up)',
  memoryToleranceMib: 'verdict: memory above baseline allowed',
  fdTolerance: 'verdict: fds above baseline allowed',
  json: 'write the report as JSON to this file',
  markdown: 'write the report as Markdown to this file',
}

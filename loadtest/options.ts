import { type Static, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

export const SCENARIOS = ['hold', 'storm', 'churn', 'rpc', 'slow'] as const
export type ScenarioName = (typeof SCENARIOS)[number]

const Int = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum })

/** Every flag of `bun run loadtest`; each is `--kebab-case` on the command line. */
export const LoadtestOptionsSchema = Type.Object({
  target: Type.Optional(Type.String()),
  targetPid: Type.Optional(Int(1, 2 ** 22)),
  allowRemote: Type.Boolean(),
  transport: Type.Union([Type.Literal('sse'), Type.Literal('streamable')]),
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
  slowMaxRssGrowthMib: 1024,
  serverSendDeadlineMs: 2_000,
  serverSessionTtlMs: 5_000,
  settleTimeoutMs: 30_000,
  idleWindowMs: 5_000,
  maxIdleCpuPercent: 2,
  memoryToleranceMib: 256,
  fdTolerance: 16,
}

export class OptionsError extends Error {
  override readonly name = 'OptionsError'
}

const kebab = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

/** Parses `--flag value`, `--flag=value` and bare boolean flags; validated with TypeBox. */
export function parseOptions(argv: readonly string[]): LoadtestOptions {
  const byFlag = new Map(Object.keys(LoadtestOptionsSchema.properties).map((k) => [kebab(k), k]))
  const raw: Record<string, unknown> = { ...DEFAULT_OPTIONS, seed: Date.now() % 2 ** 32 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const eq = arg.indexOf('=')
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const key = byFlag.get(flag)
    if (!key) throw new OptionsError(`unknown option '${flag}'; see --help`)
    const schema = LoadtestOptionsSchema.properties[key as keyof LoadtestOptions]
    if (schema.type === 'boolean' && eq < 0) {
      raw[key] = true
      continue
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined) throw new OptionsError(`${flag} needs a value`)
    raw[key] = key === 'scenarios' ? value.split(',').map((s) => s.trim()) : value
  }
  const options = Value.Convert(LoadtestOptionsSchema, raw)
  const error = Value.Errors(LoadtestOptionsSchema, options).First()
  if (error) {
    const key = error.path.split('/')[1] ?? ''
    throw new OptionsError(`${kebab(key)}: ${error.message} (got ${JSON.stringify(raw[key])})`)
  }
  return options as LoadtestOptions
}

export function usage(): string {
  const lines = Object.keys(LoadtestOptionsSchema.properties).map((key) => {
    const value = DEFAULT_OPTIONS[key as keyof LoadtestOptions]
    return `  ${kebab(key).padEnd(30)} ${value === undefined ? '' : `default ${Array.isArray(value) ? value.join(',') : value}`}`
  })
  return [
    'usage: bun run loadtest [options]',
    '',
    'Without --target, starts a local sluice on a free loopback port and loads it.',
    `Scenarios: ${SCENARIOS.join(', ')} (--scenarios storm,rpc). The seed defaults to the clock and is printed.`,
    'Transports: --transport sse (legacy HTTP+SSE, /sse) or streamable (Streamable HTTP, /mcp).',
    '',
    ...lines,
  ].join('\n')
}

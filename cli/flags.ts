/**
 * The one command-line parser of `sluice` (the server), `loadtest` and `bench`: `--flag value`,
 * `--flag=value`, repeatable list flags, switches, an environment fallback per flag, and `--help`.
 * It knows nothing of what the flags mean; each command validates the strings it gets back.
 */

/** One flag of a command. */
export interface FlagSpec {
  /** The long form, `--port`. */
  flag: string
  /**
   * `value` takes one value (the last one wins), `list` may repeat and splits on commas, `switch`
   * takes none (`--flag=false` turns it off).
   */
  kind: 'value' | 'list' | 'switch'
  /** One line for `--help`. */
  description: string
  /** The environment variable read when the flag is absent. */
  env?: string
  /** The default, as `--help` shows it. */
  defaultText?: string
}

/** A command line the command cannot run: an unknown flag, a missing value. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export type ParsedFlags =
  | { help: true }
  | {
      help: false
      /** The strings each given flag (or its environment variable) carried, by flag. */
      values: Map<string, string[]>
    }

const HELP_FLAGS = new Set(['--help', '-h'])

/**
 * Parses `argv` against `specs`; a flag that is absent falls back to its environment variable.
 * `--help` or `-h` anywhere wins over everything else.
 * @throws UsageError naming the first unknown flag or the flag that lacks its value.
 */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
  env: Record<string, string | undefined> = {},
): ParsedFlags {
  if (argv.some((a) => HELP_FLAGS.has(a))) return { help: true }
  const byFlag = new Map(specs.map((s) => [s.flag, s]))
  const values = new Map<string, string[]>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    const spec = byFlag.get(name)
    if (!spec) throw new UsageError(`unknown option '${name}'; see --help`)
    const value = eq > 0 ? arg.slice(eq + 1) : spec.kind === 'switch' ? 'true' : argv[++i]
    if (value === undefined) throw new UsageError(`${name} needs a value`)
    add(values, spec, value)
  }
  for (const spec of specs) {
    const fromEnv = spec.env === undefined ? undefined : env[spec.env]
    if (!values.has(spec.flag) && fromEnv !== undefined) add(values, spec, fromEnv)
  }
  return { help: false, values }
}

function add(values: Map<string, string[]>, spec: FlagSpec, value: string): void {
  const parts = spec.kind === 'list' ? splitList(value) : [value]
  values.set(spec.flag, [...(values.get(spec.flag) ?? []), ...parts])
}

/** `a, b,,c` -> `['a', 'b', 'c']`. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
}

/** The last value given for `flag`, if any. */
export function lastValue(values: Map<string, string[]>, flag: string): string | undefined {
  const all = values.get(flag)
  return all?.[all.length - 1]
}

/** Whether a switch is on: `true`, `1`, `yes` (and a bare flag) are on; `false`, `0`, `no` off. */
export function switchOn(values: Map<string, string[]>, flag: string): boolean {
  const value = lastValue(values, flag)
  if (value === undefined) return false
  const normal = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(normal)) return true
  if (['false', '0', 'no', 'off', ''].includes(normal)) return false
  throw new UsageError(`${flag} is a switch: true or false; got ${JSON.stringify(value)}`)
}

export interface HelpText {
  /** `usage: ...` lines. */
  usage: string[]
  /** Paragraph lines between the usage and the flags. */
  about?: string[]
  flags: readonly FlagSpec[]
}

/** `--help`: usage, then every flag with its default and environment variable. */
export function renderHelp(help: HelpText): string {
  const left = (s: FlagSpec) =>
    `${s.flag}${s.kind === 'switch' ? '' : s.kind === 'list' ? ' <a,b>' : ' <value>'}`
  const width = Math.max(...help.flags.map((s) => left(s).length), '-h, --help'.length) + 2
  const lines = help.flags.map((s) => {
    const facts = [
      s.defaultText === undefined ? undefined : `default ${s.defaultText}`,
      s.env === undefined ? undefined : `env ${s.env}`,
    ].filter((f) => f !== undefined)
    const tail = facts.length ? ` (${facts.join(', ')})` : ''
    return `  ${left(s).padEnd(width)}${s.description}${tail}`
  })
  return [
    ...help.usage,
    ...(help.about?.length ? ['', ...help.about] : []),
    '',
    'Options:',
    ...lines,
    `  ${'-h, --help'.padEnd(width)}print this help and exit`,
  ].join('\n')
}

import {
  type FlagSpec,
  lastValue,
  parseFlags,
  renderHelp,
  switchOn,
  UsageError,
} from '../cli/flags.ts'
import { type Config, ConfigError, configFlags, configFromFlags } from './config.ts'
import { SERVER_NAME, SERVER_VERSION } from './server.ts'

/** What `sluice` (bun server/main.ts) runs with, beyond the configuration table. */
export interface ServerCommand {
  config: Config
  serverInfo: { name: string; version: string }
  /** Modules whose default export registers tools on the server, in the order given. */
  toolModules: string[]
  /** Whether echo, add and sleep are registered. */
  demoTools: boolean
}

const COMMAND_FLAGS: readonly FlagSpec[] = [
  {
    flag: '--tools',
    kind: 'list',
    env: 'TOOLS',
    description: 'module whose default export receives the server and registers tools; repeatable',
    defaultText: 'none',
  },
  {
    flag: '--name',
    kind: 'value',
    env: 'SERVER_NAME',
    description: 'serverInfo.name that initialize answers',
    defaultText: SERVER_NAME,
  },
  {
    flag: '--version',
    kind: 'value',
    env: 'SERVER_VERSION',
    description: 'serverInfo.version that initialize answers',
    defaultText: SERVER_VERSION,
  },
  {
    flag: '--no-demo-tools',
    kind: 'switch',
    env: 'NO_DEMO_TOOLS',
    description: 'leave out the demo tools echo, add and sleep',
    defaultText: 'off',
  },
]

const serverFlags = () => [...configFlags(), ...COMMAND_FLAGS]

/** `sluice --help`. */
export function serverHelp(): string {
  return renderHelp({
    usage: [
      'usage: sluice [options]      (or: bun server/main.ts [options], bun run server -- [options])',
    ],
    about: [
      'An MCP server over Streamable HTTP (/mcp) and legacy HTTP+SSE (/sse, /message).',
      'Flags win over environment variables, which win over defaults.',
    ],
    flags: serverFlags(),
  })
}

/**
 * Reads the command line and environment of the server command.
 * @returns `'help'` when `--help` or `-h` was given.
 * @throws ConfigError naming an unknown flag or the first bad setting.
 */
export function readServerCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ServerCommand | 'help' {
  try {
    const parsed = parseFlags(argv, serverFlags(), env)
    if (parsed.help) return 'help'
    const { values } = parsed
    const name = lastValue(values, '--name') ?? SERVER_NAME
    const version = lastValue(values, '--version') ?? SERVER_VERSION
    if (name === '' || version === '') {
      throw new UsageError('--name and --version must not be empty')
    }
    return {
      config: configFromFlags(values),
      serverInfo: { name, version },
      toolModules: values.get('--tools') ?? [],
      demoTools: !switchOn(values, '--no-demo-tools'),
    }
  } catch (err) {
    if (err instanceof UsageError) throw new ConfigError(`Invalid configuration: ${err.message}`)
    throw err
  }
}

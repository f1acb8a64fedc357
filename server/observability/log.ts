/** Log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export type LogFields = Record<string, unknown>

/** Structured logger: JSON lines on stdout, readable lines when stdout is a terminal. */
export interface Logger {
  readonly level: LogLevel
  enabled(level: LogLevel): boolean
  debug(event: string, fields?: LogFields): void
  info(event: string, fields?: LogFields): void
  warn(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
}

export interface LoggerOptions {
  level: LogLevel
  /** Human-readable lines instead of JSON; defaults to whether stdout is a TTY. */
  pretty?: boolean
  write?: (line: string) => void
}

export function createLogger(options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level)
  const pretty = options.pretty ?? process.stdout.isTTY === true
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) >= threshold
  const emit = (level: LogLevel, event: string, fields?: LogFields) => {
    if (!enabled(level)) return
    const time = new Date().toISOString()
    if (pretty) {
      const rest = fields ? Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`) : []
      write([time, level.toUpperCase().padEnd(5), event, ...rest].join(' '))
    } else {
      write(JSON.stringify({ level, time, event, ...fields }, jsonReplacer))
    }
  }
  return {
    level: options.level,
    enabled,
    debug: (event, fields) => emit('debug', event, fields),
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  }
}

/** A logger that drops everything; for tests and embedding. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} })

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error)
    return { name: value.name, message: value.message, stack: value.stack }
  return value
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

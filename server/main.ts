import { ConfigError, loadConfig } from './config.ts'
import { SluiceServer } from './server.ts'

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const

/**
 * `bun run server`: read the configuration, start sluice. The first SIGINT/SIGTERM drains and
 * exits 0; a second one exits at once.
 */
function main(): void {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.argv.slice(2), process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sluice: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
  const server = new SluiceServer(config)
  server.listen()
  let stopping = false
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES) => {
    if (stopping) {
      server.logger.warn('shutdown_forced', { signal })
      process.exit(SIGNAL_EXIT_CODES[signal])
    }
    stopping = true
    server.logger.info('shutdown', { signal })
    server.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error('shutdown_failed', { err })
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
}

main()

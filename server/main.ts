import { ConfigError, loadConfig } from './config.ts'
import { SluiceServer } from './server.ts'

/** `bun run server`: read the configuration, start sluice, stop on SIGINT/SIGTERM. */
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
  const shutdown = (signal: string) => {
    server.logger.info('shutdown', { signal })
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error('shutdown_failed', { err })
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => shutdown('SIGINT'))
  process.once('SIGTERM', () => shutdown('SIGTERM'))
}

main()

#!/usr/bin/env bun
import { readServerCommand, serverHelp } from './command-line.ts'
import { ConfigError } from './config.ts'
import { Sluice } from './create-server.ts'
import { SluiceServer } from './server.ts'
import { loadToolModules, ToolModuleError } from './tool-modules.ts'

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const

/**
 * `sluice` (`bun run server`): read the command line, load `--tools` modules, start. The first
 * SIGINT/SIGTERM drains and exits 0; a second one exits at once. `--help` prints every flag.
 */
async function main(): Promise<void> {
  let command: ReturnType<typeof readServerCommand>
  try {
    command = readServerCommand(process.argv.slice(2), process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`sluice: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
  if (command === 'help') {
    console.log(serverHelp())
    process.exit(0)
  }
  const server = new SluiceServer(command.config, {
    builtinTools: command.demoTools,
    serverInfo: command.serverInfo,
  })
  if (command.config.profile === 'conformance') {
    // Loaded only when asked for: the fixtures live beside the suite's runner, not in the package.
    const { registerConformanceFixtures } = await import('../conformance/fixtures.ts')
    registerConformanceFixtures(server)
  }
  try {
    await loadToolModules(command.toolModules, new Sluice(server))
  } catch (err) {
    if (err instanceof ToolModuleError) {
      console.error(`sluice: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
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

await main()

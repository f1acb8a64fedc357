#!/usr/bin/env bun
import { readServerCommand, serverHelp } from './command-line.ts'
import { ConfigError } from './config.ts'
import { Sluice } from './create-server.ts'
import { createLogger } from './observability/log.ts'
import { checkWorkerSettings, superviseWorkers } from './process/supervisor.ts'
import {
  announceListening,
  onSupervisorGone,
  readWorkerRole,
  type WorkerRole,
  workerLogger,
} from './process/worker-role.ts'
import { SluiceServer } from './server.ts'
import { loadToolModules, ToolModuleError } from './tool-modules.ts'

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const
/** How long an instance waits to join its cluster before it says it listens anyway. */
const CLUSTER_JOIN_WAIT_MS = 10_000

/**
 * `sluice` (`bun run server`): read the command line, load `--tools` modules, start. The first
 * SIGINT/SIGTERM drains and exits 0; a second one exits at once. `--help` prints every flag.
 * With `--workers N` (N > 1) this process supervises N workers that serve the port.
 */
async function main(): Promise<void> {
  let command: ReturnType<typeof readServerCommand>
  const role = readWorkerRole(process.env)
  try {
    command = readServerCommand(process.argv.slice(2), process.env)
    if (command !== 'help' && !role) checkWorkerSettings(command.config)
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
  if (command.config.workers > 1 && !role) {
    process.exit(
      await superviseWorkers({
        config: command.config,
        argv: process.argv.slice(2),
        env: process.env,
        entry: import.meta.path,
        logger: createLogger({ level: command.config.logLevel }),
      }),
    )
  }
  const server = new SluiceServer(command.config, {
    ...(role
      ? { logger: workerLogger(createLogger({ level: command.config.logLevel }), role) }
      : {}),
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
  // Before listening: a worker may be told to stop while it still joins the cluster.
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  // Orphaned (the supervisor was killed): drain as if told to stop, rather than hold the port.
  if (role) onSupervisorGone(() => onSignal('SIGTERM'))
  try {
    if (role) await serveAsWorker(server, role)
    else {
      // A lone instance joins its cluster before it says `listening`, so that nothing it is sent
      // then gets a 503 for a session held elsewhere.
      await joinCluster(server)
      server.listen()
    }
  } catch (err) {
    if ((err as { code?: string }).code !== 'EADDRINUSE') throw err
    // Not shared by accident: only workers of one supervisor bind a port together.
    console.error(
      `sluice: ${command.config.host}:${command.config.port} is in use by another process`,
    )
    process.exit(1)
  }
}

/**
 * Listens on the port shared with the other workers, and tells the supervisor once it has joined
 * the cluster (until then, requests for sessions on other workers would get 503).
 */
async function serveAsWorker(server: SluiceServer, role: WorkerRole): Promise<void> {
  server.metrics.registry.gauge(
    'sluice_worker_restarts_total',
    'Times the supervisor restarted this worker slot (after a crash) before this process.',
    () => role.restarts,
    'counter',
  )
  const url = server.listen({ reusePort: true })
  await joinCluster(server)
  announceListening(url)
}

/**
 * Waits until the server has joined its cluster (at once without `--redis-url`), at most
 * CLUSTER_JOIN_WAIT_MS: an instance serves its own sessions without Redis, so it starts anyway,
 * and says so.
 */
async function joinCluster(server: SluiceServer): Promise<void> {
  const joined = await Promise.race([
    server.clusterReady().then(() => true),
    Bun.sleep(CLUSTER_JOIN_WAIT_MS).then(() => false),
  ])
  if (!joined) server.logger.warn('cluster_not_joined', { waitedMs: CLUSTER_JOIN_WAIT_MS })
}

await main()

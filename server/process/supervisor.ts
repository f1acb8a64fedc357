import { constants } from 'node:os'
import { type Subprocess, spawn } from 'bun'
import { type Config, ConfigError } from '../config.ts'
import type { Logger } from '../observability/log.ts'
import { WORKER_INDEX_ENV, WORKER_RESTARTS_ENV, type WorkerMessage } from './worker-role.ts'

/**
 * `--workers N`: N processes serving one port (`SO_REUSEPORT`: the kernel spreads connections
 * over them), under a supervisor that serves nothing itself. It starts them, restarts one that
 * dies (after a backoff, so a crash loop does not spin a core), and on SIGTERM/SIGINT passes the
 * signal on, waits for every worker to drain and exits with their status.
 */

/** First restart delay of a slot; doubled per quick death, up to MAX_RESTART_DELAY_MS. */
export const FIRST_RESTART_DELAY_MS = 100
const MAX_RESTART_DELAY_MS = 10_000
/** A worker that ran this long before dying starts the backoff over. */
const STABLE_RUN_MS = 30_000

export interface SupervisorOptions {
  config: Config
  /** The server's command line as given (without the runtime and the script). */
  argv: readonly string[]
  env: Record<string, string | undefined>
  /** The script each worker runs: sluice's own main. */
  entry: string
  logger: Logger
}

/**
 * Refuses settings that cannot work across processes: without a shared session directory, a
 * request that lands on another worker than its session's would get 404.
 * @throws ConfigError naming the setting.
 */
export function checkWorkerSettings(config: Config): void {
  if (config.workers > 1 && !config.redisUrl) {
    throw new ConfigError(
      `Invalid configuration: --workers ${config.workers} needs --redis-url (REDIS_URL): each worker holds its own sessions, and a request that lands on another worker finds its session only through Redis`,
    )
  }
}

/** The workers' command line: `--workers` removed, the port the supervisor chose last (it wins). */
export function workerArgv(argv: readonly string[], port: number): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--workers') {
      i++ // and its value
      continue
    }
    if (arg.startsWith('--workers=')) continue
    out.push(arg)
  }
  return [...out, '--port', String(port)]
}

/**
 * A free port on `host`, for workers that must all bind the same one: the OS picks it for a
 * listener that is closed at once. Another process could take it before the workers bind; they
 * would then fail to start, and the supervisor with them.
 */
export function pickFreePort(host: string): number {
  const probe = Bun.listen({ hostname: host, port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/**
 * How long a slot waits before its next worker, after `quickDeaths` deaths in a row (counting
 * this one) each within STABLE_RUN_MS of its start: 100 ms, 200, 400, ... up to 10 s.
 */
export function restartDelayMs(quickDeaths: number): number {
  return Math.min(FIRST_RESTART_DELAY_MS * 2 ** Math.max(0, quickDeaths - 1), MAX_RESTART_DELAY_MS)
}

interface Slot {
  index: number
  child: Subprocess | undefined
  /** Restarts of this slot so far. */
  restarts: number
  /** Deaths in a row that came before STABLE_RUN_MS: the backoff's exponent. */
  quickDeaths: number
  startedAt: number
  restartTimer: ReturnType<typeof setTimeout> | undefined
  listening: PromiseWithResolvers<void>
}

/** Runs the supervisor until its workers have exited; resolves to the process exit status. */
export async function superviseWorkers(options: SupervisorOptions): Promise<number> {
  const { config, logger } = options
  const port = config.port === 0 ? pickFreePort(config.host) : config.port
  const args = workerArgv(options.argv, port)
  let stopping = false
  /** Whether every worker has listened once; before, a death stops the start. */
  let started = false
  /** The status of the first worker that died during the start: the supervisor's own. */
  let startFailure: number | undefined
  const exits = new Map<Slot, Promise<number>>()

  const start = (slot: Slot): void => {
    slot.startedAt = performance.now()
    const exited = Promise.withResolvers<number>()
    // Each worker is an instance of the cluster: a given --instance-id gets the slot appended.
    const instanceId = config.instanceId
      ? ['--instance-id', `${config.instanceId}-${slot.index}`]
      : []
    const child = spawn([process.execPath, options.entry, ...args, ...instanceId], {
      stdin: 'ignore',
      stdout: 'inherit',
      stderr: 'inherit',
      // Its own process group: a terminal's Ctrl-C reaches the workers once, through us.
      detached: true,
      env: {
        ...options.env,
        WORKERS: '1',
        [WORKER_INDEX_ENV]: String(slot.index),
        [WORKER_RESTARTS_ENV]: String(slot.restarts),
      },
      ipc: (message: WorkerMessage) => {
        if (message.kind === 'listening') slot.listening.resolve()
      },
      onExit: (_proc, exitCode, signal) => {
        const signalCode = typeof signal === 'number' ? null : signal
        const status =
          exitCode ?? 128 + (typeof signal === 'number' ? signal : signalNumber(signal))
        if (!started && !stopping) startFailure ??= status
        exited.resolve(status)
        onExit(slot, child.pid, exitCode, signalCode)
      },
    })
    slot.child = child
    exits.set(slot, exited.promise)
    logger.info('worker_started', { worker: slot.index, pid: child.pid, restarts: slot.restarts })
  }

  const onExit = (
    slot: Slot,
    pid: number,
    exitCode: number | null,
    signalCode: NodeJS.Signals | null,
  ): void => {
    slot.child = undefined
    slot.listening.reject(new Error(`worker ${slot.index} exited before it listened`))
    if (stopping) return
    const ranMs = performance.now() - slot.startedAt
    slot.quickDeaths = ranMs >= STABLE_RUN_MS ? 1 : slot.quickDeaths + 1
    const delayMs = restartDelayMs(slot.quickDeaths)
    slot.restarts++
    slot.listening = settledLater()
    logger.warn('worker_exited', {
      worker: slot.index,
      pid,
      exitCode,
      signal: signalCode,
      restartInMs: delayMs,
      restarts: slot.restarts,
    })
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined
      if (!stopping) start(slot)
    }, delayMs)
  }

  const slots: Slot[] = Array.from({ length: config.workers }, (_, index) => ({
    index,
    child: undefined,
    restarts: 0,
    quickDeaths: 0,
    startedAt: 0,
    restartTimer: undefined,
    listening: settledLater(),
  }))

  const stopAll = async (signal: NodeJS.Signals): Promise<number> => {
    stopping = true
    for (const slot of slots) {
      clearTimeout(slot.restartTimer)
      slot.child?.kill(signal)
    }
    const statuses = await Promise.all(slots.map((slot) => exits.get(slot)))
    return statuses.find((status) => status !== undefined && status !== 0) ?? 0
  }

  const done = Promise.withResolvers<number>()
  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals > 1) {
      // A second signal: the workers exit at once (their own second-signal rule).
      logger.warn('shutdown_forced', { signal })
      for (const slot of slots) slot.child?.kill(signal)
      return
    }
    logger.info('shutdown', { signal, workers: slots.filter((s) => s.child).length })
    stopAll(signal).then(done.resolve, done.reject)
  }
  // Before the workers start: a signal during the start stops them too.
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  for (const slot of slots) start(slot)
  try {
    await Promise.race([Promise.all(slots.map((slot) => slot.listening.promise)), done.promise])
  } catch (err) {
    if (stopping) return done.promise
    // A worker that cannot start (port taken, a bad --tools module) will not start on a retry.
    logger.error('workers_failed_to_start', { err })
    await stopAll('SIGTERM')
    return startFailure || 1
  }
  started = true
  if (!stopping) {
    logger.info('listening', {
      url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/`,
      workers: config.workers,
      pids: slots.map((slot) => slot.child?.pid),
    })
  }
  return done.promise
}

/** A promise whose rejection is handled only when someone awaits it. */
function settledLater(): PromiseWithResolvers<void> {
  const p = Promise.withResolvers<void>()
  p.promise.catch(() => {})
  return p
}

/** A signal's number, for the shell's 128 + n status of a process it ended. */
function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal && constants.signals[signal]) || 1
}

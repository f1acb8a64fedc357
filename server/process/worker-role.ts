import type { LogFields, Logger } from '../observability/log.ts'

/**
 * The worker's side of `--workers N`: how a worker knows it is one, tells its supervisor it
 * listens, and notices when the supervisor is gone. The supervisor is in `supervisor.ts`.
 */

/** Set by the supervisor in each worker's environment: its slot, from 0. */
export const WORKER_INDEX_ENV = 'SLUICE_WORKER_INDEX'
/** Set by the supervisor: how many times this slot's worker was restarted before this one. */
export const WORKER_RESTARTS_ENV = 'SLUICE_WORKER_RESTARTS'

/** A worker process under a supervisor. */
export interface WorkerRole {
  /** Its slot, 0 to N-1; a restarted worker takes the slot of the one it replaces. */
  index: number
  /** Restarts of this slot before this process. */
  restarts: number
}

/** What a worker sends its supervisor over IPC. */
export type WorkerMessage = { kind: 'listening'; url: string }

/** The worker role from the environment, or undefined when this process is not a worker. */
export function readWorkerRole(env: Record<string, string | undefined>): WorkerRole | undefined {
  const index = env[WORKER_INDEX_ENV]
  if (index === undefined) return undefined
  return { index: Number(index), restarts: Number(env[WORKER_RESTARTS_ENV] ?? 0) }
}

/** Tells the supervisor this worker listens (it waits for every worker before it says so). */
export function announceListening(url: URL): void {
  const message: WorkerMessage = { kind: 'listening', url: url.href }
  process.send?.(message)
}

/**
 * Calls `onGone` once when the IPC channel to the supervisor closes: the supervisor exited, even
 * by SIGKILL. A worker without its supervisor would hold the port with nobody to stop it.
 */
export function onSupervisorGone(onGone: () => void): void {
  process.once('disconnect', onGone)
}

/**
 * The worker's logger: every line names its slot, and its `listening` line is `worker_listening`:
 * the supervisor alone says `listening`, once every worker does, so whoever waits for that line
 * finds them all ready.
 */
export function workerLogger(base: Logger, role: WorkerRole): Logger {
  const tag =
    (log: (event: string, fields?: LogFields) => void) => (event: string, fields?: LogFields) =>
      log(event === 'listening' ? 'worker_listening' : event, { worker: role.index, ...fields })
  return {
    level: base.level,
    enabled: base.enabled,
    debug: tag(base.debug),
    info: tag(base.info),
    warn: tag(base.warn),
    error: tag(base.error),
  }
}

import { describe, expect, test } from 'bun:test'
import { ConfigError, DEFAULT_CONFIG } from '../config.ts'
import { checkWorkerSettings, pickFreePort, restartDelayMs, workerArgv } from './supervisor.ts'

describe('--workers', () => {
  test("workers get the server's command line without --workers, and the chosen port last", () => {
    expect(workerArgv(['--workers', '2', '--port', '0', '--workers=3', '--debug'], 4567)).toEqual([
      '--port',
      '0',
      '--debug',
      '--port',
      '4567',
    ])
  })

  test('more than one worker without a shared session directory is refused, naming the setting', () => {
    expect(() => checkWorkerSettings({ ...DEFAULT_CONFIG, workers: 2 })).toThrow(ConfigError)
    expect(() => checkWorkerSettings({ ...DEFAULT_CONFIG, workers: 2 })).toThrow(/--redis-url/)
    expect(() => checkWorkerSettings({ ...DEFAULT_CONFIG, workers: 1 })).not.toThrow()
  })

  test('the port picked for the workers is free to bind', () => {
    const port = pickFreePort('127.0.0.1')
    expect(port).toBeGreaterThan(0)
    const server = Bun.serve({ hostname: '127.0.0.1', port, fetch: () => new Response('ok') })
    expect(server.port).toBe(port)
    server.stop(true)
  })

  test('a crash loop backs off: 100 ms, doubling per quick death in a row, at most 10 s', () => {
    expect([1, 2, 3, 4, 7, 8, 50].map(restartDelayMs)).toEqual([
      100, 200, 400, 800, 6_400, 10_000, 10_000,
    ])
  })
})

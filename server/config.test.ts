import { describe, expect, test } from 'bun:test'
import { ConfigError, DEFAULT_CONFIG, loadConfig } from './config.ts'

describe('loadConfig', () => {
  test('uses the defaults when nothing is set', () => {
    expect(loadConfig([], {})).toEqual(DEFAULT_CONFIG)
  })

  test('reads flags before the environment', () => {
    const config = loadConfig(['--port', '8080', '--keepalive-ms=500'], {
      PORT: '9090',
      HOST: '::1',
    })
    expect(config).toEqual({ ...DEFAULT_CONFIG, port: 8080, keepaliveMs: 500, host: '::1' })
  })

  test('--debug sets the log level to debug', () => {
    expect(loadConfig(['--debug'], {}).logLevel).toBe('debug')
  })

  test('a bad value names the setting and what it accepts', () => {
    expect(() => loadConfig(['--port', 'abc'], {})).toThrow(
      new ConfigError(
        'Invalid configuration: --port (PORT) must be an integer from 0 to 65535 (TCP port; 0 lets the OS pick); got "abc"',
      ),
    )
    expect(() => loadConfig([], { LOG_LEVEL: 'loud' })).toThrow(
      'Invalid configuration: --log-level (LOG_LEVEL) must be one of debug, info, warn, error; got "loud"',
    )
    expect(() => loadConfig(['--nope'], {})).toThrow(
      "Invalid configuration: unknown option '--nope'",
    )
    expect(() => loadConfig(['--port'], {})).toThrow('Invalid configuration: --port needs a value')
  })
})

import { describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

  test('auth tokens and CORS origins are lists: repeated flags, commas, and a token file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'))
    const file = join(dir, 'tokens')
    writeFileSync(file, '# ops tokens\nfrom-file-1\n\nfrom-file-2\n')
    const config = loadConfig(
      ['--auth-token', 'a', '--auth-token=b,c', '--auth-token-file', file],
      {
        CORS_ORIGINS: 'https://x.example, https://y.example',
      },
    )
    expect(config.authTokens).toEqual(['a', 'b', 'c', 'from-file-1', 'from-file-2'])
    expect(config.corsOrigins).toEqual(['https://x.example', 'https://y.example'])
    expect(loadConfig([], { AUTH_TOKEN: 't1,t2' }).authTokens).toEqual(['t1', 't2'])
    expect(() => loadConfig(['--auth-token-file', join(dir, 'missing')], {})).toThrow(
      'Invalid configuration: --auth-token-file (AUTH_TOKEN_FILE) cannot be read',
    )
  })
})

import { describe, expect, test } from 'bun:test'
import { type FlagSpec, parseFlags, renderHelp, switchOn, UsageError } from './flags.ts'

const SPECS: FlagSpec[] = [
  { flag: '--port', kind: 'value', env: 'PORT', description: 'TCP port', defaultText: '3000' },
  { flag: '--token', kind: 'list', env: 'TOKEN', description: 'tokens' },
  { flag: '--quiet', kind: 'switch', description: 'say less', defaultText: 'off' },
]

describe('parseFlags', () => {
  test('reads values, repeated lists split on commas, switches, and the environment fallback', () => {
    const parsed = parseFlags(['--port=8080', '--token', 'a,b', '--token', 'c', '--quiet'], SPECS, {
      PORT: '9090',
    })
    expect(parsed).toEqual({
      help: false,
      values: new Map([
        ['--port', ['8080']],
        ['--token', ['a', 'b', 'c']],
        ['--quiet', ['true']],
      ]),
    })
    const fromEnv = parseFlags([], SPECS, { PORT: '9090', TOKEN: 'x, y' })
    expect(fromEnv).toEqual({
      help: false,
      values: new Map([
        ['--port', ['9090']],
        ['--token', ['x', 'y']],
      ]),
    })
  })

  test('--help and -h win over everything, even an unknown flag', () => {
    expect(parseFlags(['--nope', '-h'], SPECS)).toEqual({ help: true })
    expect(parseFlags(['--help'], SPECS)).toEqual({ help: true })
  })

  test('refuses an unknown flag and a flag without its value, naming it', () => {
    expect(() => parseFlags(['--port', '1', '--prot', '2'], SPECS)).toThrow(
      new UsageError("unknown option '--prot'; see --help"),
    )
    expect(() => parseFlags(['--port'], SPECS)).toThrow(new UsageError('--port needs a value'))
  })

  test('a switch is on when bare or true, off when false, and refuses anything else', () => {
    const on = (argv: string[]) => {
      const parsed = parseFlags(argv, SPECS)
      return !parsed.help && switchOn(parsed.values, '--quiet')
    }
    expect(on(['--quiet'])).toBe(true)
    expect(on(['--quiet=false'])).toBe(false)
    expect(on([])).toBe(false)
    expect(() => on(['--quiet=maybe'])).toThrow('--quiet is a switch: true or false; got "maybe"')
  })
})

describe('renderHelp', () => {
  test('lists every flag with its default and environment variable', () => {
    expect(renderHelp({ usage: ['usage: x [options]'], flags: SPECS })).toBe(
      [
        'usage: x [options]',
        '',
        'Options:',
        '  --port <value>  TCP port (default 3000, env PORT)',
        '  --token <a,b>   tokens (env TOKEN)',
        '  --quiet         say less (default off)',
        '  -h, --help      print this help and exit',
      ].join('\n'),
    )
  })
})

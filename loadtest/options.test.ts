import { describe, expect, test } from 'bun:test'
import { OptionsError, parseOptions } from './options.ts'

describe('load tester options', () => {
  test('--target takes several instances, with one pid each, and POSTs go to the other by default', () => {
    const options = parseOptions([
      '--target',
      'http://127.0.0.1:3001,http://127.0.0.1:3002',
      '--target-pid=11,12',
    ])
    expect(options).toMatchObject({
      target: ['http://127.0.0.1:3001', 'http://127.0.0.1:3002'],
      targetPid: [11, 12],
      postTarget: 'other',
    })
  })

  test('refuses a pid count that does not match the targets, and a metrics URL count too', () => {
    const two = ['--target', 'http://127.0.0.1:3001,http://127.0.0.1:3002']
    expect(() => parseOptions([...two, '--target-pid', '11'])).toThrow(
      new OptionsError(
        '--target-pid: give one pid per --target, in the same order (2 targets, 1 pids)',
      ),
    )
    expect(() =>
      parseOptions([
        ...two,
        '--metrics-url',
        'http://127.0.0.1:9/a,http://127.0.0.1:9/b,http://127.0.0.1:9/c',
      ]),
    ).toThrow(/--metrics-url: give one URL for the whole deployment or one per --target/)
    expect(parseOptions([...two, '--metrics-url', 'http://127.0.0.1:9/m'])).toMatchObject({
      metricsUrl: ['http://127.0.0.1:9/m'],
    })
  })

  test('--post-target accepts other and same only', () => {
    expect(parseOptions(['--post-target', 'same'])).toMatchObject({ postTarget: 'same' })
    expect(() => parseOptions(['--post-target', 'random'])).toThrow(/--post-target/)
  })
})

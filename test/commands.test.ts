import { describe, expect, test } from 'bun:test'

const ROOT = new URL('..', import.meta.url).pathname
const COMMANDS = {
  server: 'server/main.ts',
  loadtest: 'loadtest/main.ts',
  bench: 'bench/main.ts',
} as const

/** Runs a command to its end; each of these either prints help or refuses at once. */
function run(entry: string, args: string[]) {
  const child = Bun.spawnSync([process.execPath, entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'error' },
  })
  return { code: child.exitCode, stdout: child.stdout.toString(), stderr: child.stderr.toString() }
}

describe('the three commands', () => {
  for (const [name, entry] of Object.entries(COMMANDS)) {
    test(`${name} --help and -h print usage and every flag with its env name, exit 0`, () => {
      for (const flag of ['--help', '-h']) {
        const { code, stdout } = run(entry, [flag])
        expect(code).toBe(0)
        expect(stdout).toStartWith('usage: ')
        expect(stdout).toContain('-h, --help')
        expect(stdout).toMatch(/\(default [^)]*env [A-Z_]+\)/)
      }
    })

    test(`${name} refuses an unknown flag at once, naming it, exit 2`, () => {
      const { code, stderr } = run(entry, ['--no-such-flag'])
      expect(code).toBe(2)
      expect(stderr).toContain("unknown option '--no-such-flag'")
    })
  }
})

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnServer } from '../loadtest/target.ts'

/**
 * `bun run conformance`: starts sluice with `--profile conformance` on a free loopback port and
 * runs the pinned versions of the official suite against /mcp: 0.1.16, all 32 server scenarios
 * (`--suite all`), with the expected-failures baseline; 0.2.0-alpha.12 with `--requirements
 * 2025-11-25`; and 0.2.0-alpha.12 with `--requirements 2026-07-28` (the stateless era, its
 * transport scenarios included), with its own baseline. The suites' bundles run on Bun (their CLI
 * wants Node 22's fs.globSync; Bun has it). Exits non-zero if any fails. Extra arguments go to
 * every run (e.g. `--scenario tools-list`).
 */
const here = (path: string) => new URL(path, import.meta.url).pathname

const SUITES = [
  {
    name: '@modelcontextprotocol/conformance 0.1.16',
    bundle: here('../node_modules/@modelcontextprotocol/conformance/dist/index.js'),
    args: ['--suite', 'all', '--expected-failures', here('./expected-failures.yml')],
  },
  {
    name: '@modelcontextprotocol/conformance 0.2.0-alpha.12',
    bundle: here('../node_modules/@modelcontextprotocol/conformance-next/dist/index.js'),
    args: ['--requirements', '2025-11-25'],
  },
  {
    name: '@modelcontextprotocol/conformance 0.2.0-alpha.12, 2026-07-28',
    bundle: here('../node_modules/@modelcontextprotocol/conformance-next/dist/index.js'),
    args: [
      '--requirements',
      '2026-07-28',
      '--expected-failures',
      here('./expected-failures-2026-07-28.yml'),
    ],
  },
]

const extra = process.argv.slice(2)
const target = await spawnServer(here('../server/main.ts'), [
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--profile',
  'conformance',
])
try {
  const url = new URL('/mcp', target.base).href
  const failed: string[] = []
  for (const suite of SUITES) {
    console.log(`\n### ${suite.name}\n`)
    // A scenario filter replaces the suite selection of the run.
    const selection = extra.includes('--scenario') ? suite.args.slice(2) : suite.args
    const run = Bun.spawn(
      [process.execPath, suite.bundle, 'server', '--url', url, ...selection, ...extra],
      // The suite writes results/ into its working directory.
      {
        cwd: mkdtempSync(join(tmpdir(), 'sluice-conformance-')),
        stdout: 'inherit',
        stderr: 'inherit',
      },
    )
    if ((await run.exited) !== 0) failed.push(suite.name)
  }
  console.log(
    failed.length
      ? `\nconformance FAILED: ${failed.join(', ')}`
      : `\nconformance passed: all ${SUITES.length} runs`,
  )
  process.exitCode = failed.length ? 1 : 0
} finally {
  await target.stop()
}

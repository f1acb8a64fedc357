import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnServer } from '../loadtest/target.ts'

/**
 * `bun run conformance`: starts sluice with `--profile conformance` on a free loopback port and
 * runs the official suite against its Streamable HTTP endpoint, with the expected-failures
 * baseline. The suite's bundle runs on Bun (its CLI wants Node 22's fs.globSync; Bun has it).
 * Exits with the suite's code.
 */
const here = (path: string) => new URL(path, import.meta.url).pathname
const suite = here('../node_modules/@modelcontextprotocol/conformance/dist/index.js')

const target = await spawnServer(here('../server/main.ts'), [
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--profile',
  'conformance',
])
try {
  const run = Bun.spawn(
    [
      process.execPath,
      suite,
      'server',
      '--url',
      new URL('/mcp', target.base).href,
      '--expected-failures',
      here('./expected-failures.yml'),
      ...process.argv.slice(2),
    ],
    // The suite writes results/ into its working directory.
    {
      cwd: mkdtempSync(join(tmpdir(), 'sluice-conformance-')),
      stdout: 'inherit',
      stderr: 'inherit',
    },
  )
  process.exitCode = await run.exited
} finally {
  await target.stop()
}

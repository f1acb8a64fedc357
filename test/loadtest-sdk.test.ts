import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Report } from '../loadtest/report.ts'
import { spawnServer, type Target } from '../loadtest/target.ts'

const SDK_SERVER = new URL('./fixtures/sdk-server.mjs', import.meta.url).pathname
const LOADTEST = new URL('../loadtest/main.ts', import.meta.url).pathname
const REAP_CHECK = 'sessions left by the load tester are closed by the server'

let target: Target | undefined
afterEach(async () => {
  await target?.stop()
  target = undefined
})

/** Runs `bun run loadtest --target ... --target-pid ...` with small counts; returns its report. */
async function loadtest(transport: 'sse' | 'streamable', server: Target) {
  const json = join(mkdtempSync(join(tmpdir(), 'sluice-loadtest-')), 'report.json')
  const child = Bun.spawn(
    [
      process.execPath,
      LOADTEST,
      ...['--target', server.base.href, '--target-pid', String(server.pid)],
      ...['--transport', transport, '--scenarios', 'hold,storm,rpc', '--seed', '7'],
      ...['--hold-sessions', '30', '--storm-connections', '60', '--storm-concurrency', '20'],
      ...['--rpc-sessions', '3', '--rpc-duration-ms', '500', '--rpc-max-calls-per-session', '200'],
      ...['--settle-timeout-ms', '1000', '--idle-window-ms', '1000', '--json', json],
      // A verdict on a machine busy with other tests: generous, but a spinning core is ~100%.
      ...['--max-idle-cpu-percent', '20'],
    ],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const [code, stdout, stderr] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ])
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report
  const scenario = (name: string) => {
    const found = report.scenarios.find((s) => s.name === name)
    if (!found) throw new Error(`no ${name} in the report`)
    return found
  }
  return { code, output: stdout + stderr, report, scenario }
}

/** What every verdict over a server without sluice's /metrics must look like. */
function expectHonest(run: Awaited<ReturnType<typeof loadtest>>) {
  expect(run.output).not.toContain('NaN')
  expect(run.output).not.toContain('    at ') // no stack trace
  for (const s of run.report.scenarios) {
    for (const value of Object.values(s.figures)) expect(value === null).toBe(false)
    const byName = new Map(s.verdict.checks.map((c) => [c.name, c]))
    expect(byName.get('sessions back to baseline')).toMatchObject({
      measured: false,
      value: null,
      detail: 'not available: server-side session count: GET /metrics answered 404',
    })
    for (const name of ['idle CPU over 1 s', 'file descriptors back to baseline']) {
      expect(byName.get(name)?.measured).toBe(true)
    }
    expect(byName.get('liveness: a fresh session initializes and answers ping')?.passed).toBe(true)
  }
  expect(run.scenario('hold').figures).toMatchObject({
    opened: 30,
    heldByServer: 'n/a',
    cleanupMsToZero: 'n/a',
  })
  expect(run.scenario('storm').figures.aborted).toBe(60)
  expect(run.scenario('rpc').figures.errors).toBe(0)
}

describe('the load tester against the official SDK servers (no sluice /metrics)', () => {
  test('legacy SSE: hold, storm and rpc pass on what can be seen from outside', async () => {
    target = await spawnServer(SDK_SERVER, ['--transport', 'sse'])
    const run = await loadtest('sse', target)
    expectHonest(run)
    const failed = run.report.scenarios.flatMap((s) => s.verdict.checks.filter((c) => !c.passed))
    expect(failed).toEqual([])
    expect(run.code).toBe(0)
    const reaped = run.scenario('storm').verdict.checks.find((c) => c.name === REAP_CHECK)
    expect(reaped).toMatchObject({ measured: true, passed: true, value: 0 })
  }, 60_000)

  test('Streamable HTTP: streams without a first event count as open; the storm finds sessions never reaped', async () => {
    target = await spawnServer(SDK_SERVER, ['--transport', 'streamable'])
    const run = await loadtest('streamable', target)
    expectHonest(run)
    expect(run.scenario('hold').verdict.passed).toBe(true)
    expect(run.scenario('rpc').verdict.passed).toBe(true)
    const storm = run.scenario('storm')
    expect(storm.verdict.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual([REAP_CHECK])
    const reap = storm.verdict.checks.find((c) => c.name === REAP_CHECK)
    expect(reap?.value).toBeGreaterThan(0)
    expect(reap?.detail).toContain('the server has not reaped them')
    expect(run.code).toBe(1)
  }, 60_000)
})

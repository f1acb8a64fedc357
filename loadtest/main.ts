import { writeFileSync } from 'node:fs'
import { type LoadtestOptions, OptionsError, parseOptions, usage } from './options.ts'
import { renderMarkdown } from './report.ts'
import { runLoadtest } from './run.ts'
import { externalTarget, RemoteTargetError, startLocalSluice, type Target } from './target.ts'

/** The local sluice gets a short send deadline (for `slow`) and no session cap (for `hold`). */
const LOCAL_SLUICE_ARGS = (
  sendDeadlineMs: number,
  sessionTtlMs: number,
  maxBufferedBytes: number,
) => [
  '--send-deadline-ms',
  String(sendDeadlineMs),
  '--max-buffered-bytes',
  String(maxBufferedBytes),
  // Abandoned Streamable HTTP sessions are reaped at their idle TTL; short, so a verdict sees it.
  '--session-ttl-ms',
  String(sessionTtlMs),
  // The Streamable HTTP slow scenario sends its pushes as one batch body of several MiB.
  '--max-body-bytes',
  String(64 * 1024 * 1024),
  '--max-sessions',
  '10000000',
]

/** `bun run loadtest`: exits 0 on a passing verdict, 1 on a failing one, 2 on bad usage. */
async function main(): Promise<number> {
  let options: LoadtestOptions
  let targets: Target[]
  try {
    const parsed = parseOptions(process.argv.slice(2), process.env)
    if (parsed === 'help') {
      console.log(usage())
      return 0
    }
    options = parsed
    targets = options.target
      ? options.target.map((url, i) =>
          externalTarget(url, options.targetPid?.[i], options.allowRemote),
        )
      : [
          await startLocalSluice(
            LOCAL_SLUICE_ARGS(
              options.serverSendDeadlineMs,
              options.serverSessionTtlMs,
              options.serverMaxBufferedBytes,
            ),
          ),
        ]
  } catch (err) {
    if (err instanceof OptionsError || err instanceof RemoteTargetError) {
      console.error(`loadtest: ${err.message}`)
      return 2
    }
    throw err
  }
  console.log(
    `loadtest: target ${targets.map((t) => t.base.href).join(',')}${targets.some((t) => t.managed) ? ' (local sluice)' : ''}${targets.length > 1 ? `, POSTs to the ${options.postTarget} instance` : ''}, transport ${options.transport}, seed ${options.seed}`,
  )
  try {
    const report = await runLoadtest(targets, options, (s) => {
      const failed = s.verdict.checks.filter((c) => !c.passed)
      const unmeasured = s.verdict.checks.filter((c) => !c.measured)
      console.log(
        `loadtest: ${s.name} ${s.verdict.passed ? 'PASS' : 'FAIL'} ${JSON.stringify(s.figures)}` +
          failed.map((c) => `\n  failed: ${c.name}: ${c.detail}`).join('') +
          unmeasured.map((c) => `\n  n/a: ${c.name}: ${c.detail}`).join(''),
      )
    })
    const markdown = renderMarkdown(report)
    if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`)
    if (options.markdown) writeFileSync(options.markdown, markdown)
    console.log(`\n${markdown}`)
    return report.passed ? 0 : 1
  } finally {
    await Promise.all(targets.map((t) => t.stop()))
  }
}

process.exitCode = await main()

import type { ScenarioResult } from './scenarios/context.ts'
import type { Verdict } from './verdict.ts'

export interface ScenarioReport extends ScenarioResult {
  name: string
  verdict: Verdict
}

export interface Report {
  tool: 'sluice-loadtest'
  startedAt: string
  target: string
  managedTarget: boolean
  seed: number
  transport: string
  options: Record<string, unknown>
  scenarios: ScenarioReport[]
  passed: boolean
}

/** The Markdown summary: one table of figures and one of checks per scenario. */
export function renderMarkdown(report: Report): string {
  const out = [
    `# sluice load test: ${report.passed ? 'PASS' : 'FAIL'}`,
    '',
    `Target ${report.target}${report.managedTarget ? ' (started by the load tester)' : ''}, transport ${report.transport}, seed ${report.seed}, started ${report.startedAt}.`,
    '',
  ]
  for (const s of report.scenarios) {
    out.push(
      `## ${s.name}: ${s.verdict.passed ? 'PASS' : 'FAIL'}`,
      '',
      '| figure | value |',
      '| --- | --- |',
    )
    for (const [k, v] of Object.entries(s.figures)) out.push(`| ${k} | ${v} |`)
    out.push(
      `| settle ms | ${Math.round(s.verdict.settleMs)} |`,
      '',
      '| check | result | detail |',
      '| --- | --- | --- |',
    )
    for (const c of s.verdict.checks)
      out.push(
        `| ${c.name} | ${!c.measured ? 'n/a' : c.passed ? 'pass' : '**FAIL**'} | ${c.detail} |`,
      )
    for (const note of s.notes) out.push('', `- ${note}`)
    out.push('')
  }
  return out.join('\n')
}

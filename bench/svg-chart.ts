export interface Series {
  name: string
  points: ReadonlyArray<readonly [number, number]>
}

export interface ChartOptions {
  title: string
  xLabel: string
  yLabel: string
  width?: number
  height?: number
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A self-contained SVG line chart (linear axes from 0), one line and legend entry per series. */
export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const width = o.width ?? 640
  const height = o.height ?? 360
  const m = { left: 70, right: 200, top: 40, bottom: 50 }
  const plotW = width - m.left - m.right
  const plotH = height - m.top - m.bottom
  const all = series
    .flatMap((s) => s.points)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  const xMax = niceCeil(Math.max(1, ...all.map(([x]) => x)))
  const yMax = niceCeil(Math.max(1, ...all.map(([, y]) => y)))
  const sx = (x: number) => m.left + (x / xMax) * plotW
  const sy = (y: number) => m.top + plotH - (y / yMax) * plotH
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  ]
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4
    const x = (xMax * i) / 4
    out.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
      `<text x="${sx(x)}" y="${m.top + plotH + 18}" text-anchor="middle">${fmt(x)}</text>`,
    )
  }
  out.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  )
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    if (pts.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')}"/>`,
      )
    }
    for (const [x, y] of pts)
      out.push(`<circle cx="${sx(x)}" cy="${sy(y)}" r="3.5" fill="${color}"/>`)
    const ly = m.top + 10 + i * 18
    out.push(
      `<rect x="${m.left + plotW + 14}" y="${ly - 9}" width="12" height="12" fill="${color}"/>`,
      `<text x="${m.left + plotW + 32}" y="${ly + 1}">${esc(s.name)}</text>`,
    )
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p
  return 10 * p
}

function fmt(v: number): string {
  if (v >= 1000) return `${Math.round(v / 100) / 10}k`
  return Number.isInteger(v) ? String(v) : v.toFixed(1)
}

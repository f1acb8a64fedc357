/** Live counters of a scenario, drawn as one line on a terminal and silent otherwise. */
export class Progress {
  open = 0
  aborted = 0
  errors = 0
  done = 0
  #label = ''
  #started = performance.now()
  #timer: Timer | undefined
  readonly #enabled: boolean

  constructor(enabled = process.stderr.isTTY === true) {
    this.#enabled = enabled
  }

  start(label: string): void {
    this.open = 0
    this.aborted = 0
    this.errors = 0
    this.done = 0
    this.#label = label
    this.#started = performance.now()
    if (!this.#enabled) return
    this.#timer = setInterval(() => this.#draw(), 250)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#enabled) process.stderr.write('\r\x1b[2K')
  }

  #draw(): void {
    const seconds = (performance.now() - this.#started) / 1000
    const rate = seconds > 0 ? Math.round(this.done / seconds) : 0
    process.stderr.write(
      `\r\x1b[2K[${this.#label}] ${seconds.toFixed(0)}s open ${this.open} aborted ${this.aborted} done ${this.done} errors ${this.errors} rate ${rate}/s`,
    )
  }
}

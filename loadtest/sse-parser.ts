/** One Server-Sent Event, or a comment (`: keepalive`). */
export interface SseEvent {
  event: string
  data: string
  id: string | undefined
  retryMs: number | undefined
}

/**
 * Incremental SSE parser (WHATWG event-stream rules): feed it chunks as they arrive, in any
 * split, and it calls `onEvent` per dispatched event and `onComment` per comment line.
 */
export class SseParser {
  readonly #decoder = new TextDecoder()
  #buffer = ''
  #event = ''
  #data: string[] = []
  #id: string | undefined
  #retryMs: number | undefined
  #skipLf = false

  constructor(
    private readonly onEvent: (event: SseEvent) => void,
    private readonly onComment: (text: string) => void = () => {},
  ) {}

  feed(chunk: Uint8Array | string): void {
    this.#buffer +=
      typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true })
    let start = 0
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer.charCodeAt(i)
      if (c === 10 && this.#skipLf) {
        // The \n of a \r\n pair whose \r ended the previous line.
        this.#skipLf = false
        start = i + 1
        continue
      }
      this.#skipLf = false
      if (c === 10 || c === 13) {
        this.#line(this.#buffer.slice(start, i))
        if (c === 13) this.#skipLf = true
        start = i + 1
      }
    }
    this.#buffer = this.#buffer.slice(start)
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch()
      return
    }
    const colon = line.indexOf(':')
    if (colon === 0) {
      this.onComment(line.slice(1).trimStart())
      return
    }
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') this.#data.push(value)
    else if (field === 'event') this.#event = value
    else if (field === 'id' && !value.includes('\0')) this.#id = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.#retryMs = Number(value)
  }

  #dispatch(): void {
    // WHATWG: with no data line at all, nothing is dispatched and the event type is reset.
    if (this.#data.length === 0) {
      this.#event = ''
      return
    }
    this.onEvent({
      event: this.#event || 'message',
      data: this.#data.join('\n'),
      id: this.#id,
      retryMs: this.#retryMs,
    })
    this.#event = ''
    this.#data = []
  }
}

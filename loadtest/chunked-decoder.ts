/**
 * Decodes an HTTP/1.1 chunked body incrementally (sizes, extensions, trailers), calling `onData`
 * with each payload slice and `onEnd` at the final zero-size chunk.
 */
export class ChunkedDecoder {
  #pending: Buffer = Buffer.alloc(0)
  #remaining = 0
  #state: 'size' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'size'

  constructor(
    private readonly onData: (chunk: Buffer) => void,
    private readonly onEnd: () => void,
  ) {}

  /** Feeds raw body bytes; throws on a malformed chunk size. */
  feed(bytes: Buffer): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, bytes]) : bytes
    for (;;) {
      if (this.#state === 'done') return
      if (this.#state === 'data') {
        if (buf.length === 0) break
        const take = Math.min(this.#remaining, buf.length)
        this.onData(buf.subarray(0, take))
        buf = buf.subarray(take)
        this.#remaining -= take
        if (this.#remaining === 0) this.#state = 'data-crlf'
        continue
      }
      const eol = buf.indexOf('\r\n')
      if (eol < 0) break
      const line = buf.subarray(0, eol).toString('latin1')
      buf = buf.subarray(eol + 2)
      if (this.#state === 'data-crlf') {
        this.#state = 'size'
      } else if (this.#state === 'size') {
        const size = Number.parseInt(line.split(';')[0] ?? '', 16)
        if (!Number.isFinite(size) || size < 0) throw new Error(`malformed chunk size '${line}'`)
        this.#remaining = size
        this.#state = size === 0 ? 'trailer' : 'data'
      } else if (line === '') {
        this.#state = 'done'
        this.onEnd()
        return
      }
    }
    this.#pending = Buffer.from(buf)
  }
}

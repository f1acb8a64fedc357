import { connect, type Socket } from 'node:net'
import { ChunkedDecoder } from './chunked-decoder.ts'
import { type SseEvent, SseParser } from './sse-parser.ts'

export interface SseConnectionOptions {
  base: URL
  path: string
  /** Source address to bind, to spread connections over 127.0.0.x. */
  localAddress?: string
  headers?: Record<string, string>
  /** Send the request once connected (default true). */
  sendRequest?: boolean
  /** GET by default; a POST sends `body` as JSON (a Streamable HTTP request answered as SSE). */
  method?: 'GET' | 'POST'
  body?: string
  /** The Accept header; by default what a Streamable HTTP client sends for the method. */
  accept?: string
}

export type ConnectionState = 'connecting' | 'connected' | 'streaming' | 'closed'

/**
 * One SSE stream over a raw TCP socket, so the load tester can abort it in any phase with a TCP
 * reset (which fetch cannot do), bind a source address, and stop reading at will.
 */
export class SseConnection {
  readonly socket: Socket
  state: ConnectionState = 'connecting'
  status = 0
  /** Resolves when the TCP connection is up. */
  readonly connected: Promise<void>
  /** Resolves with the first event of the stream (endpoint or priming). */
  readonly firstEvent: Promise<SseEvent>
  /**
   * Resolves once the response head says 200 and `text/event-stream`: the stream is open, whether
   * or not an event follows (a Streamable HTTP GET stream need not send one).
   */
  readonly streaming: Promise<void>
  /** Resolves when the socket is closed, however. */
  readonly closed: Promise<void>
  onEvent: (event: SseEvent) => void = () => {}
  onComment: (text: string) => void = () => {}
  readonly #streaming: PromiseWithResolvers<void>
  #head: Buffer = Buffer.alloc(0)
  #body: ((bytes: Buffer) => void) | undefined

  constructor(private readonly options: SseConnectionOptions) {
    const first = Promise.withResolvers<SseEvent>()
    const connected = Promise.withResolvers<void>()
    const closed = Promise.withResolvers<void>()
    const streaming = Promise.withResolvers<void>()
    this.#streaming = streaming
    this.streaming = streaming.promise
    this.firstEvent = first.promise
    this.connected = connected.promise
    this.closed = closed.promise
    // Callers that never await these must not see unhandled rejections.
    first.promise.catch(() => {})
    connected.promise.catch(() => {})
    streaming.promise.catch(() => {})

    let gotFirst = false
    const parser = new SseParser(
      (event) => {
        if (!gotFirst) {
          gotFirst = true
          first.resolve(event)
        }
        this.onEvent(event)
      },
      (text) => this.onComment(text),
    )
    this.socket = connect({
      host: options.base.hostname.replace(/^\[|\]$/g, ''),
      port: Number(options.base.port || 80),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    })
    this.socket.setNoDelay(true)
    this.socket.once('connect', () => {
      this.state = 'connected'
      connected.resolve()
      if (options.sendRequest !== false) this.sendRequest()
    })
    this.socket.on('data', (bytes: Buffer) => {
      try {
        if (this.#body) this.#body(bytes)
        else this.#readHead(bytes, parser)
      } catch (err) {
        first.reject(err)
        streaming.reject(err)
        this.socket.destroy()
      }
    })
    this.socket.on('error', (err) => {
      connected.reject(err)
      first.reject(err)
      streaming.reject(err)
    })
    this.socket.once('close', () => {
      this.state = 'closed'
      connected.reject(new Error('closed before connecting'))
      first.reject(
        new Error(`stream closed before its first event (HTTP ${this.status || 'none'})`),
      )
      streaming.reject(
        new Error(`stream closed before its response head (HTTP ${this.status || 'none'})`),
      )
      closed.resolve()
    })
  }

  sendRequest(): void {
    const { base, path, headers = {}, method = 'GET', body } = this.options
    // A Streamable HTTP POST must accept both (the SDK answers 406 otherwise).
    const accept =
      this.options.accept ??
      (method === 'POST' ? 'application/json, text/event-stream' : 'text/event-stream')
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${base.host}`, `Accept: ${accept}`]
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
    if (body !== undefined) {
      lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`)
    }
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`)
  }

  /** Aborts with a TCP reset (RST), not a polite close. */
  reset(): void {
    if (this.socket.destroyed) return
    this.socket.resetAndDestroy()
  }

  /** Closes politely (FIN). */
  end(): void {
    this.socket.end()
  }

  /** Stops reading: the server's writes back up into the socket buffers. */
  stopReading(): void {
    this.socket.pause()
  }

  resumeReading(): void {
    this.socket.resume()
  }

  #readHead(bytes: Buffer, parser: SseParser): void {
    this.#head = this.#head.length ? Buffer.concat([this.#head, bytes]) : bytes
    const end = this.#head.indexOf('\r\n\r\n')
    if (end < 0) return
    const head = this.#head.subarray(0, end).toString('latin1')
    const rest = this.#head.subarray(end + 4)
    this.#head = Buffer.alloc(0)
    this.status = Number(head.slice(9, 12))
    if (this.status !== 200) throw new Error(`HTTP ${this.status} instead of an event stream`)
    const type = /\r\ncontent-type:\s*([^\r]*)/i.exec(head)?.[1] ?? '(none)'
    if (!type.toLowerCase().startsWith('text/event-stream')) {
      throw new Error(`HTTP 200 with content-type ${type} instead of an event stream`)
    }
    this.state = 'streaming'
    this.#streaming.resolve()
    if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const decoder = new ChunkedDecoder(
        (chunk) => parser.feed(chunk),
        () => this.socket.end(),
      )
      this.#body = (b) => decoder.feed(b)
    } else {
      this.#body = (b) => parser.feed(b)
    }
    if (rest.length) this.#body(rest)
  }
}

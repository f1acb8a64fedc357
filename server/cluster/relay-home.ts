import type { Logger } from '../observability/log.ts'
import type { RedisLink } from './connection.ts'
import { relayChannel } from './keys.ts'
import { encodeRelay, HOP_BY_HOP, type RelayMessage } from './relay-wire.ts'

/** Answers one request with the app's own handler, as a request that came through the relay. */
export type LocalHandler = (request: Request) => Promise<Response>

interface Serving {
  /** The asking instance and its relay id. */
  from: string
  id: number
  abort: AbortController
  reader?: { cancel(): Promise<void> }
}

/**
 * The home's side of the relay: runs each relayed request through the app's own handler, so every
 * session rule applies unchanged (ownership, limits, pacing, replay, DELETE, legacy 202), and
 * streams the answer back to the asking instance: head, body chunks, end. The asker's abort
 * aborts the request and cancels its body (the normal close path of a client that left).
 */
export class RelayHome {
  readonly #serving = new Map<string, Serving>()
  /** Relays cut short while Redis was away, whose askers have not been told yet. */
  #untold: { from: string; id: number }[] = []

  constructor(
    private readonly link: RedisLink,
    private readonly handle: LocalHandler,
    private readonly logger: Logger,
  ) {}

  get serving(): number {
    return this.#serving.size
  }

  receive(message: RelayMessage & { t: 'req' | 'abort' }, body: Uint8Array): void {
    const key = `${message.from}:${message.id}`
    if (message.t === 'abort') {
      this.#stop(key)
      return
    }
    const serving: Serving = { from: message.from, id: message.id, abort: new AbortController() }
    this.#serving.set(key, serving)
    void this.#serve(key, message, body, serving)
  }

  /**
   * Aborts every request served (their answers cannot reach their askers).
   * @param tellLater Redis was lost: tell each asker once it is back (`tellAborted`), as its own
   *   connection may have stayed up and its relay would wait for an end that never comes.
   */
  abortAll(tellLater: boolean): void {
    for (const [key, serving] of [...this.#serving]) {
      // Bounded: no request arrives while Redis is away, so these are the ones that were served.
      if (tellLater) this.#untold.push({ from: serving.from, id: serving.id })
      this.#stop(key)
    }
  }

  /** The instances that relayed the requests served here (watched for death). */
  askers(): Set<string> {
    const askers = new Set<string>()
    for (const serving of this.#serving.values()) askers.add(serving.from)
    return askers
  }

  /** Stops what is served for `asker` (it is gone: nobody reads the answers). */
  stopFrom(asker: string): void {
    for (const [key, serving] of [...this.#serving]) if (serving.from === asker) this.#stop(key)
  }

  /** Redis is back: the askers of the relays cut short while it was away hear their end. */
  tellAborted(): void {
    const untold = this.#untold
    this.#untold = []
    for (const { from, id } of untold) {
      const end: RelayMessage = { t: 'end', id, error: true }
      this.link.command.publish(relayChannel(from), encodeRelay(end)).catch(() => undefined)
    }
  }

  #stop(key: string): void {
    const serving = this.#serving.get(key)
    if (!serving) return
    this.#serving.delete(key)
    serving.abort.abort()
    serving.reader?.cancel().catch(() => undefined)
  }

  async #serve(
    key: string,
    message: RelayMessage & { t: 'req' },
    body: Uint8Array,
    serving: Serving,
  ): Promise<void> {
    const channel = relayChannel(message.from)
    const send = (reply: RelayMessage, payload?: Uint8Array) => {
      if (!this.link.connected) throw new RelayLostError()
      this.link.command.publish(channel, encodeRelay(reply, payload)).then(
        // Nobody subscribed to the asker's channel: it is gone, or lost Redis and ended its relay.
        (receivers) => {
          if (receivers === 0) this.#stop(key)
        },
        () => undefined,
      )
    }
    try {
      const request = new Request(`http://relay.local${message.path}`, {
        method: message.method,
        headers: message.headers,
        body: body.length > 0 ? body : undefined,
        signal: serving.abort.signal,
      })
      const response = await this.handle(request)
      const headers: [string, string][] = []
      response.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name)) headers.push([name, value])
      })
      if (!this.#serving.has(key)) {
        await response.body?.cancel()
        return
      }
      if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
        // Not a stream: the handler has the whole body at hand; it travels with the head.
        const whole = new Uint8Array(await response.arrayBuffer())
        if (this.#serving.has(key)) {
          send({ t: 'head', id: message.id, status: response.status, headers, whole: true }, whole)
        }
        return
      }
      send({ t: 'head', id: message.id, status: response.status, headers })
      if (response.body) {
        const reader = response.body.getReader()
        serving.reader = reader
        for (;;) {
          const { done, value } = await reader.read()
          if (done || !this.#serving.has(key)) break
          send({ t: 'data', id: message.id }, value)
        }
      }
      if (this.#serving.has(key)) send({ t: 'end', id: message.id })
    } catch (err) {
      if (!(err instanceof RelayLostError) && this.#serving.has(key)) {
        this.logger.warn('relay_failed', { err: (err as Error).message })
        try {
          send({ t: 'end', id: message.id, error: true })
        } catch {}
      }
      serving.reader?.cancel().catch(() => undefined)
    } finally {
      this.#serving.delete(key)
    }
  }
}

class RelayLostError extends Error {
  override readonly name = 'RelayLostError'
}

import type { RequestId } from '../protocol/jsonrpc.ts'
import { EventStream } from './event-stream.ts'
import { Pacer, type PacerTiming } from './stream-pacer.ts'

/** Who is told when an attached reader left a frame untaken past the send deadline. */
export interface ReaderOwner {
  evictReader(reader: AttachedReader): void
}

/** A stream as its session keeps it: who reads it, and how many responses it still waits for. */
export class SessionStream extends EventStream {
  /** The attached reader; undefined while nobody reads. */
  reader: AttachedReader | undefined = undefined
  /** Responses still to come on it before it ends (a response stream). */
  awaiting = 0
  /** A JSON reply is being built from it for a client that is still there. */
  jsonReader = false
  /**
   * It answers the session's initialize: handed over whole, it is kept for a resumption (a client
   * whose connection broke may resume it with `Last-Event-ID`, the session id being in the
   * response's headers) until the session's next request, then released.
   */
  answersInitialize = false
}

/** The connection a reader reads on, as far as the server may act on it. */
export interface ReaderConnection {
  /** Cuts the connection soon: the server ended its stream, and its reader may be stalled. */
  drop(): void
}

/** The reader attached to one stream of a session: its pacing, and how to cut its connection. */
export class AttachedReader extends Pacer {
  constructor(
    private readonly owner: ReaderOwner,
    readonly stream: SessionStream,
    /** Cut when the server ends the stream (evicted, session closed). */
    readonly connection: ReaderConnection | undefined,
    timing: PacerTiming,
  ) {
    super(timing)
  }

  protected override onQuiet(): void {
    this.stream.offerKeepalive()
  }

  protected override onDeadline(): void {
    this.owner.evictReader(this)
  }
}

/**
 * The response streams of one Streamable HTTP session (the answer to a POST, as SSE or one JSON
 * body): numbered so that a client can resume one (`Last-Event-ID`), routed by request id, and
 * kept for replay once finished, at most `maxRetained` of them, the oldest released first. A
 * session makes it with a response stream and lets it go once empty: a legacy session, or an
 * idle one whose replies are all released, holds none.
 */
export class ResponseStreams {
  readonly #byNumber = new Map<number, SessionStream>()
  readonly #byRequest = new Map<RequestId, SessionStream>()
  /** Finished resumable streams nobody reads, kept for replay only; oldest first. */
  readonly #retained = new Set<SessionStream>()

  constructor(private readonly maxRetained: number) {}

  /** Streams held now. */
  get size(): number {
    return this.#byNumber.size
  }

  /** Whether a request waits for its response on one of these streams. */
  get routing(): boolean {
    return this.#byRequest.size > 0
  }

  /** Whether it holds no stream and routes no request: its session can let it go. */
  get empty(): boolean {
    return this.#byNumber.size === 0 && this.#byRequest.size === 0
  }

  /** Holds `stream`, which carries the responses to `requestIds` and ends after the last. */
  add(stream: SessionStream, requestIds: readonly RequestId[]): void {
    this.#byNumber.set(stream.number, stream)
    for (const id of requestIds) this.#byRequest.set(id, stream)
    stream.awaiting = requestIds.length
  }

  get(number: number): SessionStream | undefined {
    return this.#byNumber.get(number)
  }

  /** The stream that waits for the response to `id`, if any. */
  routeOf(id: RequestId): SessionStream | undefined {
    return this.#byRequest.get(id)
  }

  /** Requests waiting for their response, with the stream each waits on. */
  routes(): MapIterator<[RequestId, SessionStream]> {
    return this.#byRequest.entries()
  }

  streams(): MapIterator<SessionStream> {
    return this.#byNumber.values()
  }

  /**
   * The response to `id` went out, or never will: its stream no longer waits for it. Returns the
   * stream when it waits for nothing more (the caller ends it).
   */
  settle(id: RequestId): SessionStream | undefined {
    const stream = this.#byRequest.get(id)
    if (!stream) return undefined
    this.#byRequest.delete(id)
    return --stream.awaiting > 0 ? undefined : stream
  }

  /**
   * Keeps `stream` for replay if it is finished, resumable and unread; past `maxRetained` such
   * streams, the oldest are released (closed). Returns how many unsent messages that dropped.
   */
  retain(stream: SessionStream): number {
    if (!stream.resumable || !stream.ended || stream.reader || stream.closed) return 0
    if (this.#byNumber.get(stream.number) !== stream) return 0
    this.#retained.add(stream)
    let dropped = 0
    for (const oldest of this.#retained) {
      if (this.#retained.size <= this.maxRetained) break
      this.remove(oldest)
      dropped += oldest.close()
    }
    return dropped
  }

  /** A retained stream is being read again (a resumption): it is not released meanwhile. */
  unretain(stream: SessionStream): void {
    this.#retained.delete(stream)
  }

  /** Lets go of `stream` (the caller closes it); false when it is not held. */
  remove(stream: SessionStream): boolean {
    if (this.#byNumber.get(stream.number) !== stream) return false
    this.#byNumber.delete(stream.number)
    this.#retained.delete(stream)
    return true
  }

  /**
   * Forgets up to `bytes` of replay events of the retained streams, oldest first, and releases
   * those left with nothing. Returns the bytes freed.
   */
  forgetRetained(bytes: number): number {
    let left = bytes
    for (const stream of this.#retained) {
      if (left <= 0) break
      left -= stream.forgetReplay(left)
      if (stream.heldBytes === 0) {
        this.remove(stream)
        stream.close()
      }
    }
    return bytes - left
  }

  /** Whether `stream` is retained (finished, kept for replay only). */
  isRetained(stream: SessionStream): boolean {
    return this.#retained.has(stream)
  }
}

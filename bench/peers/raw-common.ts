/**
 * What the raw `Bun.serve` peers share: the three tools, the SSE frames sluice sends, one sweep
 * of keepalive comments over every held stream, and the start-up line the bench waits for. No
 * validation and no limits: the peers are what sluice's overhead is measured from, not servers.
 */
import type { Server } from 'bun'

export const encoder = new TextEncoder()

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const
export const JSON_HEADERS = { 'content-type': 'application/json' } as const

export const KEEPALIVE = encoder.encode(': keepalive\n\n')
export const KEEPALIVE_MS = 15_000

export const TOOLS = [
  { name: 'echo', description: 'echo', inputSchema: { type: 'object' } },
  { name: 'add', description: 'add', inputSchema: { type: 'object' } },
  { name: 'sleep', description: 'sleep', inputSchema: { type: 'object' } },
]

export interface CallParams {
  name?: string
  arguments?: Record<string, unknown>
}

/** The tools' semantics, as sluice's demo tools: echo returns its message as text. */
export async function callTool(params: CallParams | undefined): Promise<Record<string, unknown>> {
  const args = params?.arguments ?? {}
  if (params?.name === 'add')
    return { content: [{ type: 'text', text: String(Number(args.a) + Number(args.b)) }] }
  if (params?.name === 'sleep') {
    await Bun.sleep(Number(args.seconds) * 1000)
    return { content: [{ type: 'text', text: `slept ${args.seconds}s` }] }
  }
  return { content: [{ type: 'text', text: String(args.message) }] }
}

/** `event: message` carrying one JSON-RPC message, with an event id when the stream has ids. */
export function messageFrame(json: string, id?: string): string {
  return id === undefined
    ? `event: message\ndata: ${json}\n\n`
    : `event: message\nid: ${id}\ndata: ${json}\n\n`
}

/** How replies go out: `--response-mode json` or `sse` (sluice: `--prefer-json`, `--response-mode`). */
export function responseModeArg(): 'json' | 'sse' {
  const i = process.argv.indexOf('--response-mode')
  const mode = i >= 0 ? process.argv[i + 1] : 'sse'
  if (mode !== 'json' && mode !== 'sse') throw new Error(`--response-mode json|sse, not ${mode}`)
  return mode
}

/**
 * Held streams, each a controller, and one timer that writes a keepalive comment to all of them
 * (cheaper than a timer per stream, which is what a minimal server would do).
 */
export class HeldStreams {
  readonly #streams = new Set<ReadableStreamDefaultController<Uint8Array>>()

  constructor(intervalMs = KEEPALIVE_MS) {
    setInterval(() => {
      for (const stream of this.#streams) {
        try {
          stream.enqueue(KEEPALIVE)
        } catch {
          this.#streams.delete(stream)
        }
      }
    }, intervalMs).unref()
  }

  get size(): number {
    return this.#streams.size
  }

  /**
   * A held SSE response whose first frame is `first`; `onOpen` gets its controller (to write to
   * it), `onClose` runs when the client leaves.
   */
  open(
    first: Uint8Array,
    onOpen?: (controller: ReadableStreamDefaultController<Uint8Array>) => void,
    onClose?: () => void,
  ): Response {
    let held: ReadableStreamDefaultController<Uint8Array> | undefined
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        held = controller
        this.#streams.add(controller)
        controller.enqueue(first)
        onOpen?.(controller)
      },
      cancel: () => {
        if (held) this.#streams.delete(held)
        onClose?.()
      },
    })
    return new Response(body, { headers: SSE_HEADERS })
  }

  /** Writes to a held stream; false when it has gone. */
  static write(controller: ReadableStreamDefaultController<Uint8Array>, frame: string): boolean {
    try {
      controller.enqueue(encoder.encode(frame))
      return true
    } catch {
      return false
    }
  }

  /** Ends a held stream (its session was deleted). */
  close(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#streams.delete(controller)
    try {
      controller.close()
    } catch {
      // Already gone.
    }
  }
}

/** The line the bench waits for, and a clean stop on SIGTERM. */
export function announce(server: Server<unknown>): void {
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.port}/` }))
  process.on('SIGTERM', () => {
    void server.stop(true)
    process.exit(0)
  })
}

import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { registerConformanceFixtures } from '../conformance/fixtures.ts'
import { type Config, DEFAULT_CONFIG } from '../server/config.ts'
import { silentLogger } from '../server/observability/log.ts'
import { SluiceServer } from '../server/server.ts'

/** A sluice on 127.0.0.1 with an OS-picked port; `await using` stops it. */
export function startServer(overrides: Partial<Config> = {}): SluiceServer & AsyncDisposable {
  const server = new SluiceServer(
    { ...DEFAULT_CONFIG, port: 0, ...overrides },
    { logger: silentLogger },
  )
  if (overrides.profile === 'conformance') registerConformanceFixtures(server)
  server.listen()
  return Object.assign(server, { [Symbol.asyncDispose]: () => server.stop() })
}

/** Polls `condition` until it holds; fails naming `what` after `timeoutMs` (a bound, not a timing assertion). */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(10)
  }
}

/** One sample from the server's /metrics, e.g. `sluice_sessions_closed_total{reason="queue_full"}`. */
export async function readMetric(base: URL, series: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', base))).text()
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1))
  }
  throw new Error(`metric ${series} not found`)
}

/** The official SDK client, connected over the legacy HTTP+SSE transport. */
export async function connectSdkClient(base: URL): Promise<Client & AsyncDisposable> {
  const client = new Client({ name: 'sluice-test', version: '1.0.0' })
  await client.connect(new SSEClientTransport(new URL('/sse', base)))
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() })
}

export interface SseFrame {
  event?: string
  data?: string
  id?: string
  comment?: string
}

/** A minimal SSE reader over a fetch response, for tests that look at raw frames. */
export class SseReader {
  readonly #reader: ReturnType<typeof defaultReader>
  readonly #decoder = new TextDecoder()
  #buffer = ''

  constructor(response: Response) {
    if (!response.body) throw new Error('response has no body')
    this.#reader = defaultReader(response.body)
  }

  /** The next frame (comments included), or undefined when the stream ends. */
  async next(): Promise<SseFrame | undefined> {
    for (;;) {
      const end = this.#buffer.indexOf('\n\n')
      if (end >= 0) {
        const block = this.#buffer.slice(0, end)
        this.#buffer = this.#buffer.slice(end + 2)
        return parseBlock(block)
      }
      const { done, value } = await this.#reader.read()
      if (done) return undefined
      this.#buffer += this.#decoder.decode(value, { stream: true })
    }
  }

  /** The next frame that is not a comment. */
  async nextEvent(): Promise<SseFrame | undefined> {
    for (;;) {
      const frame = await this.next()
      if (!frame || frame.comment === undefined) return frame
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel()
  }
}

const defaultReader = (body: ReadableStream<Uint8Array>) => body.getReader()

function parseBlock(block: string): SseFrame {
  const frame: SseFrame = {}
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === '') frame.comment = value
    else if (field === 'data')
      frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`
    else if (field === 'event' || field === 'id') frame[field] = value
  }
  return frame
}

/** Opens a legacy SSE stream and returns the reader and the POST URL from its endpoint frame. */
export async function openLegacyStream(
  base: URL,
  path = '/sse',
  signal?: AbortSignal,
): Promise<{ reader: SseReader; postUrl: URL; sessionId: string }> {
  const response = await fetch(new URL(path, base), signal ? { signal } : {})
  const reader = new SseReader(response)
  const endpoint = await reader.nextEvent()
  if (endpoint?.event !== 'endpoint' || !endpoint.data) throw new Error('no endpoint frame')
  const postUrl = new URL(endpoint.data, base)
  const sessionId =
    postUrl.searchParams.get('sessionId') ?? postUrl.searchParams.get('session_id') ?? ''
  return { reader, postUrl, sessionId }
}

/** POSTs one JSON-RPC message (or raw body) and returns the response. */
export function post(url: URL, body: unknown, contentType = 'application/json'): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

export const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2024-11-05',
    capabilities: {},
    clientInfo: { name: 'raw-test', version: '1.0.0' },
  },
} as const

/** Opens a legacy stream and completes initialize on it. */
export async function openInitializedStream(base: URL, signal?: AbortSignal) {
  const stream = await openLegacyStream(base, '/sse', signal)
  await post(stream.postUrl, INITIALIZE)
  await stream.reader.nextEvent()
  return stream
}

/** POSTs a tools/call request; its answer comes on the stream. */
export function postToolCall(
  postUrl: URL,
  id: number,
  name: string,
  args: Record<string, unknown>,
) {
  return post(postUrl, {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args },
  })
}

/** The body of a 404 for a session that does not exist (or belongs to another token). */
export function sessionNotFoundBody(sessionId: string) {
  return {
    jsonrpc: '2.0',
    id: null,
    error: {
      code: -32000,
      message: `Not Found: session ${sessionId} does not exist or has expired`,
    },
  }
}

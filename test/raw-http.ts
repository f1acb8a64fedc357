import { connect, type Socket } from 'node:net'

/** The status line and body of a raw HTTP exchange: for requests `fetch` will not send. */
export interface RawAnswer {
  status: number
  contentType: string
  body: string
}

/**
 * Sends `request` (a whole HTTP/1.x request, CRLFs included) on a fresh socket and reads the
 * answer's head and its first body bytes. Streams are cut after their first chunk arrives.
 */
export function rawRequest(base: URL, request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(base.port), base.hostname)
    let text = ''
    const finish = () => {
      socket.destroy()
      const head = text.slice(0, text.indexOf('\r\n\r\n'))
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
      const contentType = /\r\ncontent-type: ([^\r]+)/i.exec(head)?.[1] ?? ''
      const body = text.slice(head.length + 4)
      resolve({ status, contentType, body })
    }
    socket.on('error', reject)
    socket.on('data', (chunk) => {
      text += chunk.toString()
      const end = text.indexOf('\r\n\r\n')
      if (end < 0) return
      const length = /\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1]
      if (length === undefined || text.length >= end + 4 + Number(length)) finish()
    })
    socket.on('end', finish)
    socket.write(request)
  })
}

/** A JSON POST as raw text, with the headers given (Host included or not). */
export function rawPost(path: string, headers: Record<string, string>, body: unknown): string {
  const text = JSON.stringify(body)
  const lines = Object.entries({
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  }).map(([k, v]) => `${k}: ${v}`)
  return `POST ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${text}`
}

/** A raw SSE client that reads the endpoint frame and then stops reading. */
export async function openStalledReader(
  base: URL,
): Promise<{ socket: Socket; postUrl: URL; closed: Promise<void> }> {
  const socket = connect(Number(base.port), base.hostname)
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(`GET /sse HTTP/1.1\r\nHost: ${base.host}\r\n\r\n`)
  const endpoint = await new Promise<string>((resolve) => {
    let text = ''
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      const match = /data: (\/message\?sessionId=[\w-]+)/.exec(text)
      if (match?.[1]) {
        socket.off('data', onData)
        socket.pause()
        resolve(match[1])
      }
    }
    socket.on('data', onData)
  })
  return { socket, postUrl: new URL(endpoint, base), closed }
}

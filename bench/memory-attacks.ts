import { connect, type Socket } from 'node:net'
import { spawnServer } from '../loadtest/target.ts'

/**
 * `bun bench/memory-attacks.ts [attack] [--server PATH] [-- server flags]`: the memory attacks a
 * hostile client can make, each against a fresh sluice child on a loopback port, with the server's
 * RSS (from /proc) before, at its peak, and after it settled. Every loop is bounded.
 *
 *   batch-ids      150 batches of [echo 1 MiB x3, ping "d" x2] from a 2025-03-26 session
 *   unread-replies 60 POSTs echoing 3.9 MiB that are never read (half SSE, half JSON)
 *   replay         5 sessions x 17 SSE echoes of 1 MiB, each read to its end
 *   slow-readers   50 legacy readers that stop reading while 64 KiB results pile up
 *   budget         20 legacy readers that stop reading, 24 MiB each, against the buffer budget
 */
const MiB = 1024 * 1024
const args = process.argv.slice(2)
const serverFlagsAt = args.indexOf('--')
const serverFlags = serverFlagsAt >= 0 ? args.slice(serverFlagsAt + 1) : []
const own = serverFlagsAt >= 0 ? args.slice(0, serverFlagsAt) : args
const serverAt = own.indexOf('--server')
const serverPath =
  serverAt >= 0 ? (own[serverAt + 1] ?? '') : new URL('../server/main.ts', import.meta.url).pathname
const chosen = own.filter((a, i) => !a.startsWith('--') && own[i - 1] !== '--server')

type Attack = { flags: string[]; settleMs: number; run: (base: URL) => Promise<string> }

function rssMiB(pid: number): number {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

const echo = (id: number | string, bytes: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message: 'x'.repeat(bytes) } },
})

async function initialize(base: URL, version: string): Promise<string> {
  const response = await fetch(new URL('/mcp', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: version,
        capabilities: {},
        clientInfo: { name: 'attack', version: '1' },
      },
    }),
  })
  await response.text()
  return response.headers.get('mcp-session-id') ?? ''
}

const headers = (session: string, version: string, accept: string) => ({
  'content-type': 'application/json',
  accept,
  'mcp-session-id': session,
  'mcp-protocol-version': version,
})

/** A raw request whose answer is never read; the socket is kept (paused) until `close()`. */
function unreadRequest(base: URL, head: string, body = ''): Socket {
  const socket = connect(Number(base.port), base.hostname)
  socket.on('error', () => {})
  socket.write(
    `${head}\r\nHost: ${base.host}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  socket.pause()
  return socket
}

async function legacyStalledReader(base: URL): Promise<{ socket: Socket; postUrl: URL }> {
  const socket = connect(Number(base.port), base.hostname)
  socket.on('error', () => {})
  socket.write(`GET /sse HTTP/1.1\r\nHost: ${base.host}\r\n\r\n`)
  const path = await new Promise<string>((resolve) => {
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = /data: (\/message\?sessionId=[\w-]+)/.exec(text)
      if (match?.[1]) {
        socket.removeAllListeners('data')
        socket.pause()
        resolve(match[1])
      }
    })
  })
  return { socket, postUrl: new URL(path, base) }
}

const postJson = (url: URL, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

async function floodLegacy(readers: number, bytes: number, perReader: number, base: URL) {
  const sockets: Socket[] = []
  await Promise.all(
    Array.from({ length: readers }, async () => {
      const { socket, postUrl } = await legacyStalledReader(base)
      sockets.push(socket)
      await postJson(postUrl, {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2024-11-05',
          capabilities: {},
          clientInfo: { name: 'a', version: '1' },
        },
      })
      for (let i = 1; i <= perReader; i++) {
        if ((await postJson(postUrl, echo(i, bytes))).status !== 202) break
      }
    }),
  )
  return sockets
}

const ATTACKS: Record<string, Attack> = {
  'batch-ids': {
    flags: ['--max-body-bytes', String(8 * MiB)],
    settleMs: 5_000,
    run: async (base) => {
      const session = await initialize(base, '2025-03-26')
      const statuses = new Map<number, number>()
      for (let i = 0; i < 150; i++) {
        const batch = [
          echo(`a${i}`, MiB),
          echo(`b${i}`, MiB),
          echo(`c${i}`, MiB),
          { jsonrpc: '2.0', id: 'd', method: 'ping' },
          { jsonrpc: '2.0', id: 'd', method: 'ping' },
        ]
        const r = await fetch(new URL('/mcp', base), {
          method: 'POST',
          headers: headers(session, '2025-03-26', 'application/json, text/event-stream'),
          body: JSON.stringify(batch),
        })
        // Read only the head: a client of this kind never finishes reading.
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        void r.body?.cancel()
      }
      return `statuses ${JSON.stringify(Object.fromEntries(statuses))}`
    },
  },
  'unread-replies': {
    flags: ['--send-deadline-ms', '3000', '--max-body-bytes', String(8 * MiB)],
    settleMs: 15_000,
    run: async (base) => {
      const session = await initialize(base, '2025-11-25')
      const body = JSON.stringify(echo(1, 3.9 * MiB))
      const sockets: Socket[] = []
      for (let i = 0; i < 60; i++) {
        const accept = i % 2 ? 'application/json' : 'text/event-stream'
        const text = body.replace('"id":1', `"id":${i + 1}`)
        const h = headers(session, '2025-11-25', accept)
        const lines = Object.entries(h)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n')
        sockets.push(unreadRequest(base, `POST /mcp HTTP/1.1\r\n${lines}`, text))
      }
      await Bun.sleep(2_000)
      return `60 unread replies; sockets kept open by the client: ${sockets.length}`
    },
  },
  replay: {
    flags: [],
    settleMs: 5_000,
    run: async (base) => {
      for (let s = 0; s < 5; s++) {
        const session = await initialize(base, '2025-11-25')
        for (let i = 1; i <= 17; i++) {
          const r = await fetch(new URL('/mcp', base), {
            method: 'POST',
            headers: headers(session, '2025-11-25', 'text/event-stream'),
            body: JSON.stringify(echo(i, MiB)),
          })
          await r.text()
        }
      }
      return '5 sessions x 17 read 1 MiB echoes'
    },
  },
  'slow-readers': {
    flags: ['--max-queue-bytes', String(16 * MiB)],
    settleMs: 45_000,
    run: async (base) => {
      const sockets = await floodLegacy(50, 64 * 1024, 150, base)
      return `50 stalled readers, up to 150 x 64 KiB results each; ${sockets.length} sockets`
    },
  },
  budget: {
    flags: ['--max-queue-bytes', String(64 * MiB), '--send-deadline-ms', '600000'],
    settleMs: 5_000,
    run: async (base) => {
      const sockets = await floodLegacy(20, 256 * 1024, 96, base)
      return `20 stalled readers, 96 x 256 KiB results each; ${sockets.length} sockets`
    },
  },
}

for (const name of chosen.length > 0 ? chosen : Object.keys(ATTACKS)) {
  const attack = ATTACKS[name]
  if (!attack) throw new Error(`unknown attack ${name}; known: ${Object.keys(ATTACKS).join(', ')}`)
  const target = await spawnServer(serverPath, [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    ...attack.flags,
    ...serverFlags,
  ])
  const pid = target.pid ?? 0
  try {
    await Bun.sleep(300)
    const baseline = rssMiB(pid)
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssMiB(pid))
    }, 50)
    const note = await attack.run(target.base)
    peak = Math.max(peak, rssMiB(pid))
    const attackEnd = performance.now()
    while (performance.now() - attackEnd < attack.settleMs) await Bun.sleep(100)
    clearInterval(sampler)
    const settled = rssMiB(pid)
    console.log(
      `${name.padEnd(15)} RSS baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, ${attack.settleMs / 1000} s after ${settled.toFixed(0)} MiB  (${note})`,
    )
  } finally {
    await target.stop()
  }
}

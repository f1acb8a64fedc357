import { expect, test } from 'bun:test'
import { DEFAULT_CONFIG } from '../server/config.ts'
import { createLogger } from '../server/observability/log.ts'
import { SluiceServer } from '../server/server.ts'
import { openInitializedStream, post } from './helpers.ts'

test('method names that are prototype properties are unknown methods, logged at most at debug', async () => {
  const lines: string[] = []
  const server = new SluiceServer(
    { ...DEFAULT_CONFIG, port: 0 },
    { logger: createLogger({ level: 'info', pretty: false, write: (line) => lines.push(line) }) },
  )
  server.listen()
  try {
    const { reader, postUrl } = await openInitializedStream(server.url)
    const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']
    for (const [i, method] of names.entries()) {
      expect((await post(postUrl, { jsonrpc: '2.0', id: i + 1, method })).status).toBe(202)
      const frame = await reader.nextEvent()
      expect(JSON.parse(frame?.data ?? '')).toEqual({
        jsonrpc: '2.0',
        id: i + 1,
        error: { code: -32601, message: `Method not found: ${method}` },
      })
    }
    expect(lines.filter((l) => /"level":"(warn|error)"/.test(l))).toEqual([])
  } finally {
    await server.stop()
  }
})

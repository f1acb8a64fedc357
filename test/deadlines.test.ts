import { describe, expect, test } from 'bun:test'
import { INITIALIZE, openLegacyStream, post, readMetric, startServer, waitFor } from './helpers.ts'
import { openStalledReader } from './raw-http.ts'

const BIG_MESSAGE = 'x'.repeat(256 * 1024)

/** Posts large echo calls until the session is gone (bounded: at most `max` calls). */
async function flood(postUrl: URL, max: number): Promise<number> {
  for (let i = 1; i <= max; i++) {
    const response = await post(postUrl, {
      jsonrpc: '2.0',
      id: i,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: BIG_MESSAGE } },
    })
    if (response.status === 404) return i
    await Bun.sleep(0)
  }
  return max
}

describe('send deadline and bounded queue', () => {
  test('evicts a reader that stopped reading at the send deadline', async () => {
    await using server = startServer({
      sendDeadlineMs: 300,
      maxQueueMessages: 100_000,
      maxQueueBytes: 1 << 30,
    })
    const { postUrl, socket, closed } = await openStalledReader(server.url)
    await post(postUrl, INITIALIZE)
    await flood(postUrl, 400)
    await waitFor('the session to close', () => server.sessions.size === 0)
    expect(
      await readMetric(server.url, 'sluice_sessions_closed_total{reason="send_deadline"}'),
    ).toBe(1)
    expect(await readMetric(server.url, 'sluice_sse_streams_open')).toBe(0)
    // The server drops the connection too; the client sees it once it looks.
    socket.resume()
    await closed
  })

  test('closes a session whose queue overflows, without growing it', async () => {
    await using server = startServer({ sendDeadlineMs: 600_000, maxQueueMessages: 8 })
    const { postUrl, socket, closed } = await openStalledReader(server.url)
    await post(postUrl, INITIALIZE)
    await flood(postUrl, 400)
    await waitFor('the session to close', () => server.sessions.size === 0)
    expect(await readMetric(server.url, 'sluice_sessions_closed_total{reason="queue_full"}')).toBe(
      1,
    )
    expect(await readMetric(server.url, 'sluice_messages_dropped_total')).toBeGreaterThanOrEqual(1)
    socket.resume()
    await closed
  })

  test("a quiet stream outlives Bun's 10 s idle timeout while keepalives flow", async () => {
    await using server = startServer({ keepaliveMs: 500 })
    const { reader, postUrl } = await openLegacyStream(server.url)
    const started = performance.now()
    let keepalives = 0
    while (performance.now() - started < 11_000) {
      const frame = await reader.next()
      expect(frame).toEqual({ comment: 'keepalive' })
      keepalives++
    }
    expect(keepalives).toBeGreaterThanOrEqual(10)
    expect((await post(postUrl, INITIALIZE)).status).toBe(202)
    expect((await reader.nextEvent())?.event).toBe('message')
    expect(await readMetric(server.url, 'sluice_keepalives_sent_total')).toBe(keepalives)
    await reader.cancel()
  }, 30_000)
})

import { afterEach, describe, expect, test } from 'bun:test'
import { initialize, mcp } from '../streamable-helpers.ts'
import { startCluster, type TestCluster } from './cluster-helpers.ts'

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.[Symbol.asyncDispose]()
  cluster = undefined
})

const relaysTotal = async (base: URL) => {
  const text = await (await fetch(new URL('/metrics', base))).text()
  return Number(/^sluice_relays_total\{[^}]*\} (\d+)$/m.exec(text)?.[1])
}

describe('a relayed request body', () => {
  test('past --max-body-bytes is refused where it lands, as its home would, and never published', async () => {
    const maxBodyBytes = 64 * 1024
    cluster = await startCluster(2, { maxBodyBytes })
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'ping',
      params: { pad: 'x'.repeat(4 * maxBodyBytes) },
    })
    const send = (base: URL) =>
      mcp(base, sessionId, { method: 'POST', headers: { accept: 'application/json' }, body })
    const direct = await send(a.url)
    const relayed = await send(b.url)
    expect(direct.status).toBe(413)
    expect(relayed.status).toBe(413)
    expect(await relayed.json()).toEqual(await direct.json())
    expect(await relaysTotal(b.url)).toBe(0)
    // Within the limit, the same session is still relayed.
    const small = await mcp(b.url, sessionId, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    })
    expect(small.status).toBe(200)
    expect(await relaysTotal(b.url)).toBe(1)
  }, 20_000)

  test('a legacy POST past the limit through another instance: the same 413 as on its home', async () => {
    const maxBodyBytes = 64 * 1024
    cluster = await startCluster(2, { maxBodyBytes })
    const [a, b] = cluster.instances
    if (!a || !b) throw new Error('two instances expected')
    const { sessionId } = await initialize(a.url)
    const body = JSON.stringify({
      jsonrpc: '2.0',
      method: 'x',
      params: { pad: 'x'.repeat(4 * maxBodyBytes) },
    })
    const send = (base: URL) =>
      fetch(new URL(`/mcp?session_id=${sessionId}`, base), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    const direct = await send(a.url)
    const relayed = await send(b.url)
    expect(direct.status).toBe(413)
    expect(relayed.status).toBe(413)
    expect(await relayed.json()).toEqual(await direct.json())
    expect(await relaysTotal(b.url)).toBe(0)
  }, 20_000)
})

import { describe, expect, test } from 'bun:test'
import { MAX_SUBSCRIPTIONS_PER_SESSION } from '../server/resources/feature.ts'
import { ResourceRegistrationError } from '../server/resources/registry.ts'
import { connect, startFeatureServer } from './feature-helpers.ts'
import { readMetric, waitFor } from './helpers.ts'

const buffered = (base: URL) => readMetric(base, 'sluice_buffered_bytes')

describe('resource URIs are bounded and templates match without backtracking', () => {
  test('a URI past 8 KiB is -32602 naming the limit, for read, subscriptions and completion', async () => {
    await using server = startFeatureServer()
    server.resourceTemplate('docs://{+section}/{page}.md', { name: 'docs' }, () => 'doc')
    await using c = await connect(server.url, 'streamable')
    const uri = `docs://${'/'.repeat(128 * 1024)}x`
    const refusal = (method: string) => ({
      code: -32602,
      message: `MCP error -32602: Invalid params: the uri of ${method} is ${uri.length} bytes; the limit is 8192 bytes`,
    })
    await expect(c.client.readResource({ uri })).rejects.toMatchObject(refusal('resources/read'))
    await expect(c.client.subscribeResource({ uri })).rejects.toMatchObject(
      refusal('resources/subscribe'),
    )
    await expect(c.client.unsubscribeResource({ uri })).rejects.toMatchObject(
      refusal('resources/unsubscribe'),
    )
    await expect(
      c.client.complete({
        ref: { type: 'ref/resource', uri },
        argument: { name: 'page', value: '' },
      }),
    ).rejects.toMatchObject(refusal('completion/complete'))
    const near = `docs://${'a/'.repeat(4000)}p.md`
    expect(await c.client.readResource({ uri: near })).toEqual({
      contents: [{ uri: near, text: 'doc' }],
    })
  })

  test('a template with two greedy variables is refused at registration', async () => {
    await using server = startFeatureServer()
    expect(() =>
      server.resourceTemplate('docs://{+section}/{+page}.md', { name: 'docs' }, () => 'doc'),
    ).toThrow(
      new ResourceRegistrationError(
        'template docs://{+section}/{+page}.md: at most one {+var} or {#var} per template; this one has 2',
      ),
    )
  })
})

describe('subscriptions are charged to the buffer budget', () => {
  test('each subscribed URI is held in the budget until unsubscribed or the session closes', async () => {
    await using server = startFeatureServer()
    // Legacy transport: nothing is kept for replay, so the budget holds only what is subscribed.
    const c = await connect(server.url, 'legacy')
    const before = await buffered(server.url)
    const first = `test://template/${'a'.repeat(6000)}/data`
    const second = `test://template/${'é'.repeat(3000)}/data`
    await c.client.subscribeResource({ uri: first })
    await c.client.subscribeResource({ uri: first })
    await c.client.subscribeResource({ uri: second })
    const bytes = (uri: string) => Buffer.byteLength(uri)
    expect(await buffered(server.url)).toBe(before + bytes(first) + bytes(second))
    await c.client.unsubscribeResource({ uri: first })
    await c.client.unsubscribeResource({ uri: first })
    expect(await buffered(server.url)).toBe(before + bytes(second))
    await c.disconnect()
    await waitFor('the session to close', () => server.sessions.size === 0)
    expect(await buffered(server.url)).toBe(0)
  })

  test('a subscription past the per-session limit is -32602 and counted in /metrics', async () => {
    await using server = startFeatureServer()
    await using c = await connect(server.url, 'legacy')
    const uris = Array.from(
      { length: MAX_SUBSCRIPTIONS_PER_SESSION },
      (_, i) => `test://template/${i}/data`,
    )
    for (let i = 0; i < uris.length; i += 100) {
      await Promise.all(uris.slice(i, i + 100).map((uri) => c.client.subscribeResource({ uri })))
    }
    await expect(
      c.client.subscribeResource({ uri: 'test://template/one-more/data' }),
    ).rejects.toMatchObject({ code: -32602 })
    // Watching a URI again is not a new subscription.
    expect(await c.client.subscribeResource({ uri: 'test://template/0/data' })).toEqual({})
    expect(
      await readMetric(
        server.url,
        'sluice_limit_refusals_total{limit="subscriptions_per_session"}',
      ),
    ).toBe(1)
  })
})

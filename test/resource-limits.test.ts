import { describe, expect, test } from 'bun:test'
import { ResourceRegistrationError } from '../server/resources/registry.ts'
import { connect, startFeatureServer } from './feature-helpers.ts'

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

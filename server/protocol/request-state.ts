import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { invalidParams } from './errors.ts'

/**
 * The `requestState` of MCP 2026-07-28 multi round-trip requests (`basic/patterns/mrtr.mdx`):
 * opaque to the client, and unforgeable: `base64url(JSON payload) "." base64url(HMAC-SHA256)`
 * under a per-process key (or a configured one, so that any process of a deployment can verify).
 *
 * The seam for input requests (the full-features issue owns `ctx.elicit/sample/listRoots`): on a
 * 2026 request, the per-request peer answers an input request the retry did not bring a response
 * for by ending the call with an `InputRequiredResult` whose `requestState` is signed here (the
 * method, the tool and its arguments' digest, and the responses gathered so far); the retry is
 * verified here before the handler runs again with those responses, so handlers stay unchanged.
 */
export class RequestStateSigner {
  readonly #key: Buffer

  constructor(key: string | Uint8Array = randomBytes(32)) {
    this.#key = Buffer.from(key)
  }

  sign(payload: unknown): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url')
    return `${body}.${this.#mac(body).toString('base64url')}`
  }

  /**
   * The payload of a state this signer issued.
   * @throws ProtocolError -32602 for a state that is malformed, altered or issued by another key.
   */
  verify(state: string): unknown {
    const dot = state.indexOf('.')
    const body = state.slice(0, dot)
    const mac = Buffer.from(state.slice(dot + 1), 'base64url')
    const expected = this.#mac(body)
    if (dot < 1 || mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw invalidParams('requestState was not issued by this server or has been altered')
    }
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  }

  #mac(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest()
  }
}

import { createHash } from 'node:crypto'
import { TRANSPORT_ERROR_CODE, TransportError } from './transport-error.ts'

/** The owner of sessions created without auth. */
export const ANONYMOUS = 'anonymous'

const REALM = 'Bearer realm="sluice"'

/**
 * Optional bearer-token auth. Tokens are kept only as SHA-256 digests and a request's token is
 * looked up by its digest, so comparison time does not depend on how much of a token matched.
 * The owner id of a request (a digest prefix, never the token) binds the sessions it creates.
 */
export class BearerAuth {
  readonly #owners = new Map<string, string>()
  readonly #cache = new WeakMap<Request, string | TransportError>()

  constructor(tokens: readonly string[]) {
    for (const token of tokens) {
      const digest = sha256(token)
      this.#owners.set(digest, `token:${digest.slice(0, 12)}`)
    }
  }

  get enabled(): boolean {
    return this.#owners.size > 0
  }

  /** The owner id of the request, or the 401 to answer it with. Memoized per request. */
  ownerOf(request: Request): string | TransportError {
    if (!this.enabled) return ANONYMOUS
    let owner = this.#cache.get(request)
    if (owner === undefined) {
      owner = this.#resolve(request.headers.get('authorization'))
      this.#cache.set(request, owner)
    }
    return owner
  }

  #resolve(header: string | null): string | TransportError {
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (!match?.[1]) {
      return new TransportError(
        401,
        TRANSPORT_ERROR_CODE,
        'Unauthorized: a bearer token is required',
        {
          'www-authenticate': REALM,
        },
      )
    }
    const owner = this.#owners.get(sha256(match[1]))
    if (owner) return owner
    return new TransportError(
      401,
      TRANSPORT_ERROR_CODE,
      'Unauthorized: the bearer token is not valid',
      {
        'www-authenticate': `${REALM}, error="invalid_token"`,
      },
    )
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

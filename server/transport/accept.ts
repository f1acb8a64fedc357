import { TRANSPORT_ERROR_CODE, TransportError } from './transport-error.ts'

/** Which response types the client's Accept header allows. */
export function acceptOf(request: Request): { json: boolean; sse: boolean } {
  const accept = (request.headers.get('accept') ?? '').toLowerCase()
  const any = accept.includes('*/*')
  return {
    json: any || accept.includes('application/json') || accept.includes('application/*'),
    sse: any || accept.includes('text/event-stream') || accept.includes('text/*'),
  }
}

export function notAcceptable(what: string): TransportError {
  return new TransportError(
    406,
    TRANSPORT_ERROR_CODE,
    `Not Acceptable: the client must accept ${what}`,
  )
}

import { describe, expect, test } from 'bun:test'
import { ProtocolError } from './errors.ts'
import { RequestStateSigner } from './request-state.ts'

const refused = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return err instanceof ProtocolError ? err.code : err
  }
  return undefined
}

describe('RequestStateSigner', () => {
  test('verifies what it signed and returns the payload', () => {
    const signer = new RequestStateSigner()
    const payload = { method: 'tools/call', tool: 'book', answers: { name: 'Ada' } }
    expect(signer.verify(signer.sign(payload))).toEqual(payload)
  })

  test('refuses an altered payload, an altered mac, another key and garbage with -32602', () => {
    const signer = new RequestStateSigner('k1')
    const state = signer.sign({ step: 1 })
    const [body, mac] = state.split('.') as [string, string]
    const forged = Buffer.from(JSON.stringify({ step: 2 })).toString('base64url')
    expect(refused(() => signer.verify(`${forged}.${mac}`))).toBe(-32602)
    expect(refused(() => signer.verify(`${body}.${mac.slice(1)}A`))).toBe(-32602)
    expect(refused(() => new RequestStateSigner('k2').verify(state))).toBe(-32602)
    expect(refused(() => signer.verify('no-dot'))).toBe(-32602)
  })
})

import { describe, expect, test } from 'bun:test'
import { createLogger } from './log.ts'

describe('createLogger', () => {
  test('writes JSON lines with level, time, event and fields, above its level only', () => {
    const lines: string[] = []
    const log = createLogger({ level: 'info', pretty: false, write: (l) => lines.push(l) })
    log.debug('frame_out', { session: 's1' })
    log.warn('session_closed', { session: 's1', reason: 'send_deadline' })
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        level: 'warn',
        time: expect.any(String),
        event: 'session_closed',
        session: 's1',
        reason: 'send_deadline',
      },
    ])
  })

  test('writes readable lines for a terminal', () => {
    const lines: string[] = []
    const log = createLogger({ level: 'debug', pretty: true, write: (l) => lines.push(l) })
    log.info('listening', { url: 'http://127.0.0.1:3000/' })
    expect(lines[0]).toMatch(/^\S+ INFO {2}listening url=http:\/\/127\.0\.0\.1:3000\/$/)
  })
})

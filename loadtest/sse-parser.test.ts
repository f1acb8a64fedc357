import { describe, expect, test } from 'bun:test'
import { ChunkedDecoder } from './chunked-decoder.ts'
import { type SseEvent, SseParser } from './sse-parser.ts'

function parse(chunks: string[]): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = []
  const comments: string[] = []
  const parser = new SseParser(
    (e) => events.push(e),
    (c) => comments.push(c),
  )
  for (const chunk of chunks) parser.feed(new TextEncoder().encode(chunk))
  return { events, comments }
}

describe('SseParser', () => {
  test('parses named events, comments and multi-line data', () => {
    expect(
      parse([
        'event: endpoint\ndata: /message?sessionId=a\n\n: keepalive\n\ndata: one\ndata: two\n\n',
      ]),
    ).toEqual({
      events: [
        { event: 'endpoint', data: '/message?sessionId=a', id: undefined, retryMs: undefined },
        { event: 'message', data: 'one\ntwo', id: undefined, retryMs: undefined },
      ],
      comments: ['keepalive'],
    })
  })

  test('gives the same events whatever the chunk boundaries and line endings', () => {
    const text = 'id: 7\r\nretry: 3000\r\nevent: message\r\ndata: {"a":1}\r\n\r\n'
    const whole = parse([text]).events
    const bytewise = parse(text.split('')).events
    expect(whole).toEqual([{ event: 'message', data: '{"a":1}', id: '7', retryMs: 3000 }])
    expect(bytewise).toEqual(whole)
  })

  test('keeps the last event id across events, and ignores an event with no data', () => {
    const { events } = parse(['id: 1\ndata: a\n\nevent: x\n\n', 'data: b\n\n'])
    expect(events.map((e) => [e.id, e.data, e.event])).toEqual([
      ['1', 'a', 'message'],
      ['1', 'b', 'message'],
    ])
  })
})

describe('ChunkedDecoder', () => {
  test('decodes chunks split anywhere, and ends at the zero chunk', () => {
    const body = Buffer.from('5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n')
    const out: string[] = []
    let ended = false
    const decoder = new ChunkedDecoder(
      (c) => out.push(c.toString()),
      () => {
        ended = true
      },
    )
    for (let i = 0; i < body.length; i += 3) decoder.feed(body.subarray(i, i + 3))
    expect(out.join('')).toBe('hello, world')
    expect(ended).toBe(true)
  })
})

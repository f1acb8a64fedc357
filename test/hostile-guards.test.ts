import { describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { INITIALIZE, openLegacyStream, readMetric, startServer, waitFor } from './helpers.ts'
import { rawPost, rawRequest } from './raw-http.ts'

const forbidden = (what: string) => ({
  jsonrpc: '2.0',
  id: null,
  error: { code: -32000, message: `Forbidden: ${what} is not allowed` },
})

describe('the DNS-rebinding guard on every route', () => {
  test('a foreign Host or Origin gets 403 on the legacy routes and creates nothing', async () => {
    await using server = startServer()
    const { sessionId } = await openLegacyStream(server.url)
    const host = server.url.host
    const attempts: Array<[string, string]> = [
      ['GET /sse', `GET /sse HTTP/1.1\r\nHost: evil.example\r\n\r\n`],
      ['GET /notifications', `GET /notifications HTTP/1.1\r\nHost: evil.example\r\n\r\n`],
      [
        'GET /sse with Origin',
        `GET /sse HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\n\r\n`,
      ],
      [
        'POST /message',
        rawPost(`/message?sessionId=${sessionId}`, { host: 'evil.example' }, INITIALIZE),
      ],
      [
        'POST /mcp?session_id=',
        rawPost(
          `/mcp?session_id=${sessionId}`,
          { host, origin: 'http://evil.example' },
          INITIALIZE,
        ),
      ],
      [
        'POST /mcp with both session ids',
        rawPost(
          `/mcp?session_id=${sessionId}`,
          { host: 'evil.example', 'mcp-session-id': sessionId },
          INITIALIZE,
        ),
      ],
      ['GET /metrics', `GET /metrics HTTP/1.1\r\nHost: evil.example\r\n\r\n`],
    ]
    for (const [what, request] of attempts) {
      const answer = await rawRequest(server.url, request)
      const byOrigin =
        request.includes('Origin: http://evil') || request.includes('origin: http://evil')
      expect({ what, status: answer.status, body: JSON.parse(answer.body) }).toEqual({
        what,
        status: 403,
        body: forbidden(byOrigin ? 'origin http://evil.example' : 'host evil.example'),
      })
    }
    expect(server.sessions.size).toBe(1)
    expect(server.sessions.get(sessionId)?.state.protocolVersion).toBeUndefined()
  })

  test('a session id in both the header and the query is refused, not routed', async () => {
    await using server = startServer()
    const { sessionId } = await openLegacyStream(server.url)
    const answer = await rawRequest(
      server.url,
      rawPost(
        `/mcp?session_id=${sessionId}`,
        { host: server.url.host, 'mcp-session-id': sessionId },
        INITIALIZE,
      ),
    )
    expect({ status: answer.status, body: JSON.parse(answer.body) }).toEqual({
      status: 400,
      body: {
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32000,
          message:
            'Bad Request: name the session in the Mcp-Session-Id header or the query, not both',
        },
      },
    })
  })

  test('an origin allowed for CORS passes the guard; * never lifts the Host check', async () => {
    await using server = startServer({ corsOrigins: ['https://app.example'] })
    const preflight = await fetch(new URL('/mcp', server.url), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    })
    expect(preflight.status).toBe(204)
    const post = await fetch(new URL('/mcp', server.url), {
      method: 'POST',
      headers: {
        origin: 'https://app.example',
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify({
        ...INITIALIZE,
        params: { ...INITIALIZE.params, protocolVersion: '2025-11-25' },
      }),
    })
    expect(post.status).toBe(200)
    expect(post.headers.get('access-control-allow-origin')).toBe('https://app.example')

    await using open = startServer({ corsOrigins: ['*'] })
    const anyOrigin = await rawRequest(
      open.url,
      `GET /sse HTTP/1.1\r\nHost: ${open.url.host}\r\nOrigin: https://elsewhere.example\r\n\r\n`,
    )
    expect(anyOrigin.status).toBe(200)
    const rebound = await rawRequest(
      open.url,
      `GET /sse HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\n\r\n`,
    )
    expect({ status: rebound.status, body: JSON.parse(rebound.body) }).toEqual({
      status: 403,
      body: forbidden('host evil.example'),
    })
  })

  test('a missing or empty Host gets 400 with a JSON-RPC body, on every route', async () => {
    await using server = startServer()
    const noHost = {
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'Bad Request: a Host header is required' },
    }
    const requests = [
      rawPost('/message?sessionId=abc', { host: '' }, INITIALIZE),
      'POST /mcp HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}',
      'GET /sse HTTP/1.0\r\n\r\n',
      'GET /nothere HTTP/1.0\r\n\r\n',
    ]
    for (const request of requests) {
      const answer = await rawRequest(server.url, request)
      expect({
        request,
        status: answer.status,
        type: answer.contentType,
        body: JSON.parse(answer.body),
      }).toEqual({
        request,
        status: 400,
        type: 'application/json;charset=utf-8',
        body: noHost,
      })
    }
    expect(server.sessions.size).toBe(0)
  })
})

describe('client aborts are not server faults', () => {
  test('a client that resets mid-upload is counted as a client abort, not a 500', async () => {
    await using server = startServer()
    const { sessionId } = await openLegacyStream(server.url)
    const resets = 20
    for (let i = 0; i < resets; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(server.url.port), server.url.hostname)
        socket.on('error', () => {})
        socket.on('close', () => resolve())
        socket.write(
          `POST /message?sessionId=${sessionId} HTTP/1.1\r\nHost: ${server.url.host}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"jsonrpc":"2.0",`,
          () => setTimeout(() => socket.resetAndDestroy(), 20),
        )
      })
    }
    await waitFor('every abort to be counted', async () => {
      return (
        (await readMetric(server.url, 'sluice_client_aborts_total{phase="request_body"}')) ===
        resets
      )
    })
    const metrics = await (await fetch(new URL('/metrics', server.url))).text()
    expect(metrics).not.toContain('sluice_http_rejections_total{status="500"}')
  })
})

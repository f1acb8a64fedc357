// The official SDK's legacy HTTP+SSE transport on express, on Node: GET /sse, POST /message.
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js'
import express from 'express'
import { createSdkServer, listen } from './sdk-tools.mjs'

const transports = new Map()
const app = express()

app.get('/sse', async (_req, res) => {
  const transport = new SSEServerTransport('/message', res)
  transports.set(transport.sessionId, transport)
  res.on('close', () => transports.delete(transport.sessionId))
  await createSdkServer().connect(transport)
})

app.post('/message', async (req, res) => {
  const transport = transports.get(String(req.query.sessionId))
  if (!transport) {
    res.status(404).send('no such session')
    return
  }
  await transport.handlePostMessage(req, res)
})

app.get('/metrics', (_req, res) => {
  res
    .type('text/plain')
    .send(`sluice_sessions_open ${transports.size}\nsluice_sse_streams_open ${transports.size}\n`)
})

listen(app)

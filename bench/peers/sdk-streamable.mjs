// The official SDK's Streamable HTTP transport on express, on Node: stateful sessions on /mcp.
import { randomUUID } from 'node:crypto'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js'
import express from 'express'
import { createSdkServer, listen } from './sdk-tools.mjs'

const transports = new Map()
const app = express()
app.use(express.json({ limit: '4mb' }))

app.post('/mcp', async (req, res) => {
  const id = req.header('mcp-session-id')
  let transport = id ? transports.get(id) : undefined
  if (!transport && !id && isInitializeRequest(req.body)) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (sessionId) => transports.set(sessionId, transport),
    })
    transport.onclose = () => transports.delete(transport.sessionId)
    await createSdkServer().connect(transport)
  }
  if (!transport) {
    res
      .status(id ? 404 : 400)
      .json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no session' } })
    return
  }
  await transport.handleRequest(req, res, req.body)
})

app.delete('/mcp', async (req, res) => {
  const transport = transports.get(req.header('mcp-session-id') ?? '')
  if (!transport) {
    res.status(404).end()
    return
  }
  await transport.handleRequest(req, res)
})

app.get('/metrics', (_req, res) => {
  res
    .type('text/plain')
    .send(`sluice_sessions_open ${transports.size}\nsluice_sse_streams_open 0\n`)
})

listen(app)

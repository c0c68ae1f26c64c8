// The server process's output is its log: every line on stdout is one JSON
// object with an `event`, even when Hocuspocus, y-protocols or ws report a
// malformed frame, a failing document load or a socket error through the
// console, and a client aborting a request is not an error.
import { request } from 'node:http'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { connect, DATABASE_URL, login, ownSpace, spawnServer, uniqueSpace, waitFor, type ServerProcess } from '@botsync/testkit/server'
import { authFrame, updateFrame } from '@botsync/testkit/raw-client'

/** The lines the process itself writes for humans on stderr at start (the URL, a generated owner). */
const HUMAN_START_LINES = /^(botsync is running: |First start: |\(shown once; |The Telegram bot did not start: |)/

async function rawSocket(url: string): Promise<{ ws: WebSocket; closed: Promise<number>; frames: Buffer[] }> {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  const frames: Buffer[] = []
  ws.on('message', (data: Buffer) => frames.push(data))
  ws.on('error', () => {})
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('unexpected-response', reject)))
  return { ws, closed, frames }
}

describe('one JSON line per log event', () => {
  let server: ServerProcess
  let token: string
  let adminEmail: string
  const db = new pg.Client({ connectionString: DATABASE_URL })
  beforeAll(async () => {
    await db.connect()
    const admin = { ADMIN_EMAIL: `logs-${uniqueSpace()}@test.local`, ADMIN_PASSWORD: 'correct horse' }
    server = await spawnServer({ LOG_LEVEL: 'debug', MAX_MESSAGE_BYTES: String(64 * 1024), ...admin })
    token = await login(server.url, admin.ADMIN_EMAIL, admin.ADMIN_PASSWORD)
    adminEmail = admin.ADMIN_EMAIL
  })
  afterAll(async () => {
    server?.child.kill('SIGKILL')
    await db.end()
  })

  it('writes malformed frames, a failing load, an oversize frame and an aborted request as JSON lines with an event', async () => {
    const wsUrl = server.wsUrl

    // A frame that does not decode at all, before authentication.
    const garbage = await rawSocket(wsUrl)
    garbage.ws.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
    await garbage.closed

    // A corrupt update inside a valid frame, after authentication.
    const name = `${await ownSpace(adminEmail)}/settings`
    const corrupt = await rawSocket(wsUrl)
    corrupt.ws.send(authFrame(name, token))
    await waitFor(() => corrupt.frames.length > 0, 'the authentication reply')
    corrupt.ws.send(updateFrame(name, Uint8Array.of(5, 200, 1, 2, 3, 99, 99)))
    await waitFor(() => server.output.some((line) => line.includes('"frame-refused"')), 'the refusal to be logged')
    corrupt.ws.close()

    // A frame over MAX_MESSAGE_BYTES (ws refuses it; crossws reports it on the console).
    const oversize = await rawSocket(wsUrl)
    oversize.ws.send(new Uint8Array(100 * 1024))
    await oversize.closed

    // A document whose stored snapshot does not decode: its load fails.
    const broken = `${await ownSpace(adminEmail)}/settings`
    await db.query('INSERT INTO documents (name, snapshot) VALUES ($1, $2)', [broken, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x07])])
    const client = connect(wsUrl, broken, token)
    expect(await client.authFailure).toBe('document-unavailable')
    client.destroy()

    // A client that announces a body and goes away halfway through it.
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/api/login', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' } })
      req.on('error', () => resolve())
      req.write('{"email":')
      setTimeout(() => (req.destroy(), resolve()), 100)
    })
    await waitFor(() => server.output.some((line) => line.includes('"request-aborted"')), 'the aborted request to be logged')

    server.child.kill('SIGTERM')
    await server.exited
    const lines = server.output
      .join('\n')
      .split('\n')
      .filter((line) => line.trim() !== '')
    const notJson: string[] = []
    const entries: Array<Record<string, unknown>> = []
    for (const line of lines) {
      try {
        entries.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        if (!HUMAN_START_LINES.test(line) || line.startsWith(' ') || line.startsWith('\t')) notJson.push(line)
      }
    }
    // Not a single stack-trace line (they start with "    at ") or bare console output.
    expect(notJson.filter((line) => !/^botsync is running: /.test(line))).toEqual([])
    expect(entries.filter((entry) => typeof entry.event !== 'string')).toEqual([])
    // What was provoked is there, one event each, and the abort is debug (20), never error (50).
    const events = entries.map((entry) => entry.event)
    expect(events).toContain('frame-refused')
    // The failed load: once, with the document's name, and nothing from Hocuspocus repeating it.
    expect(entries.filter((entry) => entry.event === 'load-failed' && entry.document === broken)).toHaveLength(1)
    expect(entries.filter((entry) => JSON.stringify(entry).includes('[onLoadDocument]'))).toEqual([])
    expect(entries.find((entry) => entry.event === 'request-aborted')).toMatchObject({ level: 20 })
    expect(entries.filter((entry) => entry.event === 'http-error')).toEqual([])
  })
})

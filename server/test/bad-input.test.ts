import { authFrame, updateFrame } from '@botsync/testkit/raw-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { connect, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'

/** A raw WebSocket that records what the server sends and how it closes. */
function rawSocket(url: string) {
  const ws = new WebSocket(url)
  ws.binaryType = 'arraybuffer'
  const received: Uint8Array[] = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })))
  ws.addEventListener('message', (event) => received.push(new Uint8Array(event.data as ArrayBuffer)))
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve())
    ws.addEventListener('error', () => reject(new Error('socket error')))
  })
  return { ws, received, closed, opened }
}

describe('bad input', () => {
  let server: BotsyncServer
  let ws: string

  beforeAll(async () => {
    server = await startServer({ MAX_MESSAGE_BYTES: String(64 * 1024) })
    ws = wsUrlOf(server)
  })
  afterAll(() => server.stop())

  /** Another admin editing throughout: bad input elsewhere must not disturb them. */
  async function bystanderStillWorks(name: string, token: string) {
    const bystander = connect(ws, name, token)
    await synced(bystander)
    bystander.doc.getMap('settings').set('still', 'working')
    await synced(bystander)
    const health = await fetch(`http://127.0.0.1:${server.port}/health`)
    expect(health.status).toBe(200)
    bystander.destroy()
  }

  it('refuses an unknown document name with a clear reason', async () => {
    const client = connect(ws, 'not/a/botsync/doc', await userToken(server, 'editor', uniqueSpace()))
    expect(await client.authFailure).toBe('unknown-document')
    client.destroy()
  })

  it('refuses a malformed binary frame and stays up', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const socket = rawSocket(ws)
    await socket.opened
    socket.ws.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))
    const { code } = await socket.closed
    expect(code).toBeGreaterThanOrEqual(4000)
    await bystanderStillWorks(`${space}/settings`, token)
  })

  it('refuses a corrupt update inside a valid frame and stores nothing', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const socket = rawSocket(ws)
    await socket.opened
    socket.ws.send(authFrame(name, token))
    await waitFor(() => socket.received.length > 0, 'the authentication reply')
    socket.ws.send(updateFrame(name, new Uint8Array([5, 200, 1, 2, 3, 99, 99])))
    // The server answers with a close message naming the reason.
    await waitFor(() => socket.received.some((frame) => new TextDecoder().decode(frame).includes('malformed-frame')), 'the refusal')
    expect((await server.store.load(name)).state).toBeNull()
    socket.ws.close()
    await bystanderStillWorks(name, token)
  })

  it('closes a socket that sends a frame over the size limit', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const socket = rawSocket(ws)
    await socket.opened
    socket.ws.send(new Uint8Array(100 * 1024))
    const { code } = await socket.closed
    expect(code).toBe(1009) // "message too big"
    await bystanderStillWorks(`${space}/settings`, token)
  })

  it('answers unknown API routes and WebSocket paths cleanly', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/api/nope`)
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: 'not-found' })
    const socket = rawSocket(`ws://127.0.0.1:${server.port}/elsewhere`)
    await expect(socket.opened).rejects.toThrow()
  })
})

// What a socket may cost before it authenticates, and how many sockets one
// client address may hold, on /collab and /readers (ConnectionLimits), with
// raw `ws` sockets so the test sees the HTTP status of a refused upgrade and
// the close code and reason of a closed socket.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { WebSocket } from 'ws'
import { docName } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { loadConfig } from '../src/config.ts'
import { connect, readersUrlOf, startServer, synced, testEnv, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'
import { authFrame, syncFrame } from '@botsync/testkit/raw-client'
import { messageYjsSyncStep1 } from 'y-protocols/sync'

const TELEGRAM_TOKEN = `123456:limits-${uniqueSpace()}`
const PENDING_MAX_BYTES = 4096
const AUTH_TIMEOUT_MS = 400

/** A raw socket: resolves `opened` on 101, rejects with the status of a refused upgrade. */
class RawSocket {
  readonly socket: WebSocket
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number; reason: string }>
  readonly refusal: Promise<{ status: number; body: string }>
  readonly frames: Buffer[] = []

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { perMessageDeflate: false, headers })
    this.socket.on('message', (data: Buffer) => this.frames.push(data))
    this.socket.on('error', () => {})
    let refused: (value: { status: number; body: string }) => void = () => {}
    this.refusal = new Promise((resolve) => (refused = resolve))
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('unexpected-response', (_request, response) => {
        let body = ''
        response.on('data', (chunk: Buffer) => (body += chunk))
        response.on('end', () => refused({ status: response.statusCode ?? 0, body }))
        reject(new Error(`HTTP ${response.statusCode}`))
      })
    })
    this.opened.catch(() => {})
    this.closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
    onTestFinished(() => this.socket.terminate())
  }

  authenticate(document: string, token: string): void {
    this.socket.send(authFrame(document, token))
  }

  /** A well-formed sync step 1 padded to `bytes`: Hocuspocus queues it until authentication, the reader gateway refuses it (not authenticated). */
  junk(document: string, bytes: number): void {
    this.socket.send(syncFrame(document, messageYjsSyncStep1, new Uint8Array(bytes).fill(7)))
  }

  /** True once the server said `authenticated` ([Auth, Authenticated]). */
  authenticated(): boolean {
    return this.frames.some((frame) => frame.includes(Buffer.from([2, 2])))
  }
}

async function pending(server: BotsyncServer, count: number): Promise<void> {
  await waitFor(() => server.limits.pending === count, `${count} pending sockets`)
}

describe('unauthenticated sockets', () => {
  let server: BotsyncServer
  beforeAll(async () => {
    server = await startServer({
      PENDING_MAX_BYTES: String(PENDING_MAX_BYTES),
      AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS),
      MAX_PENDING_CONNECTIONS: '4',
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      BOT_SPACE: uniqueSpace(),
    })
  })
  afterAll(() => server.stop())

  it('closes a socket that sends more than PENDING_MAX_BYTES before authenticating (1009), on /collab and /readers', async () => {
    for (const url of [wsUrlOf(server), readersUrlOf(server)]) {
      const raw = new RawSocket(url)
      await raw.opened
      // Three frames each under the readers' and the server's frame limits, together over the budget.
      for (let i = 0; i < 3; i++) raw.junk(`${uniqueSpace()}/settings`, 2000)
      expect(await raw.closed).toEqual({ code: 1009, reason: 'too-many-bytes-before-authentication' })
    }
    expect(server.metrics.connections.tooManyBytes).toBeGreaterThanOrEqual(2)
  })

  it('lifts the byte budget once the socket has authenticated', async () => {
    const own = uniqueSpace()
    const name = `${own}/settings`
    const client = connect(wsUrlOf(server), name, await userToken(server, 'editor', own))
    onTestFinished(() => client.destroy())
    await synced(client)
    client.doc.getMap('settings').set('big', 'x'.repeat(3 * PENDING_MAX_BYTES))
    await synced(client)
    expect((await server.store.load(name)).state?.byteLength).toBeGreaterThan(3 * PENDING_MAX_BYTES)
  })

  it('closes a socket that has not authenticated within AUTH_TIMEOUT_MS (4401), and keeps authenticated ones', async () => {
    await pending(server, 0)
    const space = server.config.botSpace
    // Before the sockets open: a login (scrypt) on a loaded machine can take longer than AUTH_TIMEOUT_MS.
    const own = uniqueSpace()
    const token = await userToken(server, 'viewer', own)
    const idle = [new RawSocket(wsUrlOf(server)), new RawSocket(readersUrlOf(server))]
    const admin = new RawSocket(wsUrlOf(server))
    const reader = new RawSocket(readersUrlOf(server))
    await Promise.all([...idle, admin, reader].map((socket) => socket.opened))
    admin.authenticate(`${own}/settings`, token)
    reader.authenticate(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await waitFor(() => admin.authenticated() && reader.authenticated(), 'both to authenticate')
    for (const socket of idle) expect(await socket.closed).toEqual({ code: 4401, reason: 'authentication-timeout' })
    // Well past the deadline, the authenticated ones are still open.
    await new Promise((resolve) => setTimeout(resolve, AUTH_TIMEOUT_MS))
    expect([admin.socket.readyState, reader.socket.readyState]).toEqual([WebSocket.OPEN, WebSocket.OPEN])
  })

  it('refuses more than MAX_PENDING_CONNECTIONS unauthenticated sockets with 503, and counts authenticated ones out', async () => {
    await pending(server, 0)
    const own = uniqueSpace()
    const token = await userToken(server, 'viewer', own)
    const first = [new RawSocket(wsUrlOf(server)), new RawSocket(wsUrlOf(server)), new RawSocket(readersUrlOf(server)), new RawSocket(readersUrlOf(server))]
    await Promise.all(first.map((socket) => socket.opened))
    for (const url of [wsUrlOf(server), readersUrlOf(server)]) {
      const refused = new RawSocket(url)
      expect(await refused.refusal).toEqual({ status: 503, body: 'too-many-pending-connections' })
    }
    first[0].authenticate(`${own}/settings`, token)
    await pending(server, 3)
    await new RawSocket(wsUrlOf(server)).opened
    expect(server.metrics.connections.refusedPending).toBeGreaterThanOrEqual(2)
  })
})

describe('connections per client address', () => {
  let server: BotsyncServer
  let proxied: BotsyncServer
  beforeAll(async () => {
    server = await startServer({ MAX_CONNECTIONS_PER_IP: '3' })
    // Behind a proxy on loopback: the client is the X-Forwarded-For address.
    proxied = await startServer({ MAX_CONNECTIONS_PER_IP: '1', TRUST_PROXY: 'loopback' })
  })
  afterAll(async () => {
    await server?.stop()
    await proxied?.stop()
  })

  it('refuses the socket over MAX_CONNECTIONS_PER_IP with 429 (both endpoints count), and accepts again after one closed', async () => {
    const open = [new RawSocket(wsUrlOf(server)), new RawSocket(readersUrlOf(server)), new RawSocket(wsUrlOf(server))]
    await Promise.all(open.map((socket) => socket.opened))
    // A forwarded address changes nothing without TRUST_PROXY.
    for (const url of [wsUrlOf(server), readersUrlOf(server)]) {
      expect(await new RawSocket(url, { 'x-forwarded-for': '203.0.113.9' }).refusal).toEqual({ status: 429, body: 'too-many-connections' })
    }
    open[1].socket.close()
    await open[1].closed
    await waitFor(async () => {
      const next = new RawSocket(wsUrlOf(server))
      return next.opened.then(
        () => true,
        () => false,
      )
    }, 'a socket to be accepted again')
    expect(server.metrics.connections.refusedPerAddress).toBeGreaterThanOrEqual(2)
  })

  it('counts per X-Forwarded-For client behind a trusted proxy', async () => {
    const a = new RawSocket(wsUrlOf(proxied), { 'x-forwarded-for': '203.0.113.1' })
    const b = new RawSocket(wsUrlOf(proxied), { 'x-forwarded-for': '198.51.100.7, 203.0.113.2' })
    await Promise.all([a.opened, b.opened])
    expect(await new RawSocket(wsUrlOf(proxied), { 'x-forwarded-for': '203.0.113.1' }).refusal).toMatchObject({ status: 429 })
    expect(await new RawSocket(readersUrlOf(proxied), { 'x-forwarded-for': '10.0.0.1, 203.0.113.2' }).refusal).toMatchObject({ status: 429 })
  })

  it('reads TRUST_PROXY as false, true, hops or a list, and refuses nonsense', () => {
    const env = (value?: string) => loadConfig({ ...testEnv(), ...(value === undefined ? {} : { TRUST_PROXY: value }) }).trustProxy
    expect([env(), env('false'), env('true'), env('2'), env('loopback, 10.0.0.0/8')]).toEqual([false, false, true, 2, ['loopback', '10.0.0.0/8']])
    expect(() => env('10.0.0.0/99')).toThrow(/TRUST_PROXY/)
  })
})

// The reader gateway (/readers) at the protocol level: what a misbehaving or
// vanished reader gets, with a raw WebSocket instead of a provider. The
// provider-level behaviour (live reads, refusals, invisibility) is in
// miniapp-readers.test.ts.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { WebSocket } from 'ws'
import { docName, projectPublicContent, setSettingsText } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { connect, readersUrlOf, seedPublicWelcome, startServer, synced, uniqueSpace, waitFor } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'
import { authFrame, frame, syncFrame } from '@botsync/testkit/raw-client'
import { messageYjsSyncStep1 } from 'y-protocols/sync'

const TELEGRAM_TOKEN = `123456:gateway-${uniqueSpace()}`
const PING_INTERVAL_MS = 300
const MAX_READERS = 6
const MAX_MESSAGE_BYTES = 4096

/** A reader socket that does only what the test tells it, and records what it gets. */
class RawReader {
  readonly socket: WebSocket
  readonly frames: Buffer[] = []
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number; reason: string }>
  /** `answerPings: false` makes a reader that has gone away without closing. */
  constructor(url: string, options: { answerPings?: boolean } = {}) {
    this.socket = new WebSocket(url, { perMessageDeflate: false })
    this.socket.on('message', (data: Buffer) => {
      this.frames.push(data)
      if (options.answerPings !== false && data.length === 1 && data[0] === 9) this.socket.send(Uint8Array.of(10))
    })
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)))
      this.socket.once('error', reject)
    })
    this.closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
  }

  send(type: number, body: (encoder: encoding.Encoder) => void, key: string): void {
    this.socket.send(frame(key, type, body))
  }

  authenticate(key: string, token: string): void {
    this.socket.send(authFrame(key, token))
  }

  syncStep1(key: string): void {
    this.socket.send(syncFrame(key, messageYjsSyncStep1, Uint8Array.of(0)))
  }

  /** [messageType, first field] of each document frame, e.g. [2, 2] = authenticated. */
  kinds(): Array<[number, number]> {
    return this.frames
      .filter((frame) => frame.length > 1)
      .map((frame) => {
        const decoder = decoding.createDecoder(frame)
        decoding.readVarString(decoder)
        return [decoding.readVarUint(decoder), decoding.readVarUint(decoder)]
      })
  }

  pings(): number {
    return this.frames.filter((frame) => frame.length === 1 && frame[0] === 9).length
  }
}

describe('reader gateway', () => {
  let server: BotsyncServer
  let url: string
  let space: string
  let publicDoc: string
  const raws: RawReader[] = []
  const raw = async (options?: { answerPings?: boolean }): Promise<RawReader> => {
    const reader = new RawReader(url, options)
    raws.push(reader)
    await reader.opened
    return reader
  }

  beforeAll(async () => {
    space = uniqueSpace()
    publicDoc = docName.public(space)
    server = await startServer({
      TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN,
      BOT_SPACE: space,
      READER_PING_INTERVAL_MS: String(PING_INTERVAL_MS),
      MAX_READERS: String(MAX_READERS),
      READER_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
      READER_DOCUMENT_GRACE_MS: '100',
    })
    url = readersUrlOf(server)
    await seedPublicWelcome(server, space)
  })
  afterAll(async () => {
    for (const reader of raws) reader.socket.terminate()
    await server.stop()
  })

  it('authenticates, syncs and acknowledges the handshake in the provider’s protocol', async () => {
    const reader = await raw()
    reader.authenticate(publicDoc, signInitData(TELEGRAM_TOKEN))
    // Sent before the authentication is decided, as the provider does: it waits its turn.
    reader.syncStep1(publicDoc)
    // authenticated, sync step 2, sync status (applied)
    await waitFor(() => reader.kinds().length >= 3, 'the handshake')
    expect(reader.kinds().slice(0, 3)).toEqual([
      [2, 2],
      [0, 1],
      [8, 1],
    ])
    reader.socket.close()
  })

  it('answers a token and the sync step 1 right behind it in one socket write', async () => {
    const reader = await raw()
    onTestFinished(() => reader.socket.close())
    const tcp = (reader.socket as unknown as { _socket: Socket })._socket
    // Every socket write, whichever way Node's stream makes it (one chunk or several).
    const write = vi.spyOn(Socket.prototype, '_write')
    const writev = vi.spyOn(Socket.prototype, '_writev')
    onTestFinished(() => {
      write.mockRestore()
      writev.mockRestore()
    })
    // As a provider sends them, arriving together.
    tcp.cork()
    reader.authenticate(publicDoc, signInitData(TELEGRAM_TOKEN))
    reader.syncStep1(publicDoc)
    tcp.uncork()
    await waitFor(() => reader.kinds().length >= 3, 'the handshake')
    expect(reader.kinds().slice(0, 3)).toEqual([
      [2, 2],
      [0, 1],
      [8, 1],
    ])
    // The server's end of this connection is the socket whose peer is this
    // one; the heartbeat may ping it meanwhile (3 bytes on the wire).
    const bytes = (chunks: unknown): number =>
      Array.isArray(chunks)
        ? chunks.reduce((sum: number, entry: Buffer | { chunk: Buffer }) => sum + ('chunk' in entry ? entry.chunk : entry).length, 0)
        : (chunks as Buffer).length
    const serverWrites = [
      ...write.mock.calls.map((args, i) => ({ socket: write.mock.contexts[i] as Socket, bytes: bytes(args[0]) })),
      ...writev.mock.calls.map((args, i) => ({ socket: writev.mock.contexts[i] as Socket, bytes: bytes(args[0]) })),
    ].filter((w) => w.socket.remotePort === tcp.localPort && w.bytes !== 3)
    expect(serverWrites).toHaveLength(1)
  })

  it('closes on frames it cannot read, with the reason', async () => {
    const text = await raw()
    text.socket.send('hello')
    expect(await text.closed).toEqual({ code: 1003, reason: 'binary-frames-only' })

    const garbage = await raw()
    garbage.socket.send(Uint8Array.of(0xff, 0xff, 0xff))
    expect(await garbage.closed).toEqual({ code: 1007, reason: 'malformed-frame' })

    const unknownType = await raw()
    unknownType.send(6, (e) => encoding.writeVarString(e, 'broadcast'), publicDoc)
    expect(await unknownType.closed).toEqual({ code: 1007, reason: 'malformed-frame' })

    const oversize = await raw()
    oversize.socket.send(new Uint8Array(MAX_MESSAGE_BYTES + 1))
    expect((await oversize.closed).code).toBe(1009)

    // A corrupt state vector after a valid authentication.
    const corrupt = await raw()
    corrupt.authenticate(publicDoc, signInitData(TELEGRAM_TOKEN))
    corrupt.socket.send(syncFrame(publicDoc, messageYjsSyncStep1, Uint8Array.of(5, 0xff)))
    expect(await corrupt.closed).toEqual({ code: 1007, reason: 'malformed-frame' })
  })

  it('answers frames for a document the socket is not reading with not-authenticated', async () => {
    const reader = await raw()
    reader.syncStep1(publicDoc)
    await waitFor(() => reader.kinds().length === 1, 'the refusal')
    expect(reader.kinds()).toEqual([[2, 1]])
    reader.socket.close()
  })

  it('lets one socket read one document', async () => {
    const reader = await raw()
    reader.authenticate(publicDoc, signInitData(TELEGRAM_TOKEN))
    reader.authenticate(`${publicDoc}\0other-session`, signInitData(TELEGRAM_TOKEN))
    await waitFor(() => reader.kinds().length === 2, 'both answers')
    expect(reader.kinds()).toEqual([
      [2, 2],
      [2, 1],
    ])
    reader.socket.close()
  })

  it('refuses a flood of frames while authenticating', async () => {
    const reader = await raw()
    // Corked, the auth frame and the flood leave in one TCP write, so the
    // gateway reads them all before the (asynchronous) authentication ends.
    const tcp = (reader.socket as unknown as { _socket: { cork(): void; uncork(): void } })._socket
    tcp.cork()
    reader.authenticate(publicDoc, signInitData(TELEGRAM_TOKEN))
    for (let i = 0; i < 40; i++) reader.syncStep1(publicDoc)
    tcp.uncork()
    expect(await reader.closed).toEqual({ code: 1008, reason: 'too-many-frames-before-authentication' })
  })

  it('pings idle readers, drops the ones that stop answering and closes sockets that never authenticate', async () => {
    // A real provider answers the pings and stays connected across many periods.
    const provider = connect(url, publicDoc, signInitData(TELEGRAM_TOKEN))
    onTestFinished(() => provider.destroy())
    await synced(provider)
    const silent = await raw({ answerPings: false })
    silent.authenticate(publicDoc, signInitData(TELEGRAM_TOKEN))
    silent.syncStep1(publicDoc)
    // Answers pings, but never says who it is.
    const unauthenticated = await raw()

    // The silent reader never answers a ping: gone within two periods (terminated, no close frame).
    expect((await silent.closed).code).toBe(1006)
    expect(silent.pings()).toBeGreaterThanOrEqual(1)
    expect(await unauthenticated.closed).toEqual({ code: 4401, reason: 'authentication-timeout' })
    await new Promise((resolve) => setTimeout(resolve, 4 * PING_INTERVAL_MS))
    expect(provider.socket.status).toBe('connected')
    // … and still follows edits.
    await server.writer.change(docName.settings(space), (doc) => setSettingsText(doc, 'welcome', 'Still here?'))
    await waitFor(() => projectPublicContent(provider.doc).texts.welcome === 'Still here?', 'the edit after many heartbeats')
  })

  it('pings each reader once per period, though the heartbeat visits readers in slices', async () => {
    await waitFor(() => server.readers.readers === 0, 'earlier readers to leave')
    // Under MAX_READERS; with ids one apart, each in its own slice.
    const readers = await Promise.all(
      Array.from({ length: MAX_READERS - 1 }, async () => {
        const reader = await raw()
        reader.authenticate(publicDoc, signInitData(TELEGRAM_TOKEN))
        reader.syncStep1(publicDoc)
        return reader
      }),
    )
    await new Promise((resolve) => setTimeout(resolve, 5 * PING_INTERVAL_MS))
    // Five periods: five pings each (four or six at the edges), not one per slice tick (fifty).
    for (const reader of readers) {
      expect(reader.pings()).toBeGreaterThanOrEqual(3)
      expect(reader.pings()).toBeLessThanOrEqual(7)
      expect(reader.socket.readyState).toBe(reader.socket.OPEN)
    }
    for (const reader of readers) reader.socket.close()
  })

  it('turns readers away past MAX_READERS with 503, and reports the count in /health', async () => {
    await waitFor(() => server.readers.readers === 0, 'earlier readers to leave')
    const admitted = await Promise.all(Array.from({ length: MAX_READERS }, () => raw()))
    const extra = new RawReader(url)
    raws.push(extra)
    await expect(extra.opened).rejects.toThrow('HTTP 503')
    const health = (await (await fetch(`http://127.0.0.1:${server.port}/health`)).json()) as { readers: { open: number } }
    expect(health.readers.open).toBe(MAX_READERS)
    for (const reader of admitted) reader.socket.close()
    await waitFor(() => server.readers.readers === 0, 'the readers to leave')
  })
})

describe('reader gateway shutdown', () => {
  it('closes readers with 1001 so they reconnect elsewhere', async () => {
    const space = uniqueSpace()
    const server = await startServer({ TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, BOT_SPACE: space })
    const reader = new RawReader(readersUrlOf(server))
    await reader.opened
    reader.authenticate(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await waitFor(() => reader.kinds().length === 1, 'authenticated')
    await server.stop()
    expect(await reader.closed).toEqual({ code: 1001, reason: 'server-shutting-down' })
  })
})

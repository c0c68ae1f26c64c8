// @botsync/testkit/bare-reader: a Mini App reader over a bare TCP socket —
// the WebSocket handshake and framing (RFC 6455) written out for exactly what
// a reader needs, then the same protocol as RawClient (auth with initData,
// sync step 1 without waiting for the answer as the provider does, Pong,
// updates). A `ws` client costs ~0.5–1 ms of CPU per
// connection (http.ClientRequest, its parser, the handshake checks), as much
// as the server's side of it: a benchmark opening 10,000 readers on the same
// cores as the server would measure its clients. This one does what a socket
// must and nothing else; it trusts the server's 101 (it is the server under
// test, not a stranger) and speaks only binary frames of one fragment, which
// is all the reader gateway sends.
import { connect as tcpConnect, type Socket } from 'node:net'
import * as decoding from 'lib0/decoding'
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync'
import { AuthMessageType, MessageType, PING, PONG, authFrame, decodeFrame, syncFrame } from './raw-client.ts'

const OPCODE_BINARY = 0x2
const OPCODE_CLOSE = 0x8
const OPCODE_PING = 0x9
const OPCODE_PONG = 0xa
/** Any valid key: the server's accept answer is not checked (see above). */
const HANDSHAKE_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

export class BareReader {
  /** Called for each update frame, with performance.now() at arrival. */
  onUpdate: (update: Uint8Array, at: number) => void = () => {}
  readonly document: string
  private readonly socket: Socket
  private buffered: Buffer = Buffer.alloc(0)

  private constructor(socket: Socket, document: string) {
    this.socket = socket
    this.document = document
  }

  /** Resolves once authenticated and synced (the server's sync step 2 arrived). */
  static connect(url: string, document: string, token: string, options: { timeoutMs?: number; providerVersion?: string } = {}): Promise<BareReader> {
    const { hostname, port, pathname } = new URL(url)
    const socket = tcpConnect({ host: hostname, port: Number(port), noDelay: true })
    const reader = new BareReader(socket, document)
    return new Promise((resolve, reject) => {
      let upgraded = false
      let synced = false
      const timer = setTimeout(() => fail(new Error(`${document}: not synced within ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000)
      const fail = (error: Error) => {
        if (synced) return
        synced = true
        clearTimeout(timer)
        socket.destroy()
        reject(error)
      }
      socket.once('error', fail)
      socket.once('close', () => fail(new Error('closed before sync')))
      socket.once('connect', () => {
        socket.write(
          `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        )
      })
      const onMessage = (data: Buffer, at: number): void => {
        if (data.length === 1) {
          if (data[0] === PING[0]) reader.send(PONG)
          return
        }
        const { type, decoder } = decodeFrame(data)
        if (type === MessageType.Sync || type === MessageType.SyncReply) {
          const step = decoding.readVarUint(decoder)
          if (step === messageYjsUpdate) reader.onUpdate(decoding.readVarUint8Array(decoder), at)
          else if (step === messageYjsSyncStep2 && !synced) {
            synced = true
            clearTimeout(timer)
            socket.on('error', () => {})
            resolve(reader)
          }
        } else if (type === MessageType.Auth) {
          const status = decoding.readVarUint(decoder)
          if (status === AuthMessageType.PermissionDenied) fail(new Error(`permission denied: ${decoding.readVarString(decoder)}`))
        }
      }
      socket.on('data', (chunk: Buffer) => {
        const at = performance.now()
        reader.buffered = reader.buffered.length === 0 ? chunk : Buffer.concat([reader.buffered, chunk])
        if (!upgraded) {
          const end = reader.buffered.indexOf('\r\n\r\n')
          if (end === -1) return
          const status = reader.buffered.toString('latin1', 0, reader.buffered.indexOf('\r\n'))
          if (!status.startsWith('HTTP/1.1 101')) return fail(new Error(`upgrade refused: ${status}`))
          upgraded = true
          reader.buffered = reader.buffered.subarray(end + 4)
          // As HocuspocusProvider.onOpen does: the token, then sync step 1
          // straight away (two frames, two writes), not after the answer.
          reader.send(authFrame(document, token, options.providerVersion))
          reader.send(syncFrame(document, messageYjsSyncStep1, new Uint8Array([0])))
        }
        try {
          reader.readFrames(onMessage, at)
        } catch (error) {
          fail(error as Error)
          socket.destroy()
        }
      })
    })
  }

  /** One masked binary frame (clients must mask; any mask will do). */
  send(payload: Uint8Array): void {
    const length = payload.length
    const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10
    const frame = Buffer.allocUnsafe(headerLength + 4 + length)
    frame[0] = 0x80 | OPCODE_BINARY
    if (length < 126) frame[1] = 0x80 | length
    else if (length < 65_536) {
      frame[1] = 0x80 | 126
      frame.writeUInt16BE(length, 2)
    } else {
      frame[1] = 0x80 | 127
      frame.writeBigUInt64BE(BigInt(length), 2)
    }
    const mask = (Math.random() * 0x1_0000_0000) >>> 0
    frame.writeUInt32BE(mask, headerLength)
    for (let i = 0; i < length; i++) frame[headerLength + 4 + i] = payload[i] ^ frame[headerLength + (i & 3)]
    this.socket.write(frame)
  }

  close(): void {
    this.socket.destroy()
  }

  /** Hands every complete frame in the buffer to `onMessage`; keeps a partial one for the next chunk. */
  private readFrames(onMessage: (data: Buffer, at: number) => void, at: number): void {
    for (;;) {
      const buffer = this.buffered
      if (buffer.length < 2) return
      const fin = (buffer[0] & 0x80) !== 0
      const opcode = buffer[0] & 0x0f
      if ((buffer[1] & 0x80) !== 0) throw new Error('the server masked a frame')
      let length = buffer[1] & 0x7f
      let offset = 2
      if (length === 126) {
        if (buffer.length < 4) return
        length = buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (buffer.length < 10) return
        length = Number(buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (buffer.length < offset + length) return
      const payload = buffer.subarray(offset, offset + length)
      this.buffered = buffer.subarray(offset + length)
      if (!fin) throw new Error('fragmented frames are not expected from the reader gateway')
      if (opcode === OPCODE_BINARY) onMessage(payload, at)
      else if (opcode === OPCODE_PING) this.sendControl(OPCODE_PONG, payload)
      else if (opcode === OPCODE_CLOSE) {
        this.socket.end()
        return
      }
    }
  }

  private sendControl(opcode: number, payload: Buffer): void {
    const frame = Buffer.alloc(6 + payload.length)
    frame[0] = 0x80 | opcode
    frame[1] = 0x80 | payload.length
    // A zero mask: the payload goes as it is.
    payload.copy(frame, 6)
    this.socket.write(frame)
  }
}

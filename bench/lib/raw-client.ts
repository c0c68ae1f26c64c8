import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { WebSocket } from 'ws'

// Hocuspocus wire format: varString(document) varUint(messageType) …
const MESSAGE_SYNC = 0
const MESSAGE_AUTH = 2
const MESSAGE_SYNC_REPLY = 4
const MESSAGE_SYNC_STATUS = 8
// Connection-level heartbeat: one byte each way, no document name.
const PING = Uint8Array.of(9)
const PONG = Uint8Array.of(10)
const SYNC_STEP_1 = 0
const SYNC_STEP_2 = 1
const SYNC_UPDATE = 2
const AUTH_TOKEN = 0
const AUTH_PERMISSION_DENIED = 1
const AUTH_AUTHENTICATED = 2

/**
 * A Hocuspocus client reduced to the protocol: authenticate with a token,
 * send sync step 1, then hand every incoming document update to `onUpdate`
 * with its arrival time. No Y.Doc, no awareness, no provider machinery, so a
 * thousand of them fit in one process without the client side dominating what
 * is measured. The writer uses `sendUpdate` for its own edits.
 */
export class RawClient {
  /** Called for each update frame, with performance.now() at arrival. */
  onUpdate: (update: Uint8Array, at: number) => void = () => {}
  /** Called for each sync status frame (the server saved an update we sent). */
  onSaved: (at: number) => void = () => {}
  readonly document: string
  private readonly socket: WebSocket

  private constructor(socket: WebSocket, document: string) {
    this.socket = socket
    this.document = document
  }

  /** Resolves once authenticated and synced (the server's sync step 2 arrived). */
  static connect(url: string, document: string, token: string, options: { timeoutMs?: number; providerVersion?: string } = {}): Promise<RawClient> {
    const timeoutMs = options.timeoutMs ?? 30_000
    const socket = new WebSocket(url, { perMessageDeflate: false })
    socket.binaryType = 'nodebuffer'
    const client = new RawClient(socket, document)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${document}: not synced within ${timeoutMs} ms`)), timeoutMs)
      const fail = (error: Error) => {
        clearTimeout(timer)
        socket.terminate()
        reject(error)
      }
      socket.once('error', fail)
      socket.once('close', (code, reason) => fail(new Error(`closed before sync: ${code} ${reason}`)))
      socket.once('open', () =>
        socket.send(
          client.frame(MESSAGE_AUTH, AUTH_TOKEN, (e) => {
            encoding.writeVarString(e, token)
            // Current providers append their version; the server records it.
            if (options.providerVersion) encoding.writeVarString(e, options.providerVersion)
          }),
        ),
      )
      socket.on('message', (data: Buffer) => {
        const at = performance.now()
        if (data.length === 1 && data[0] === PING[0]) {
          socket.send(PONG)
          return
        }
        const decoder = decoding.createDecoder(data)
        decoding.readVarString(decoder)
        const type = decoding.readVarUint(decoder)
        if (type === MESSAGE_SYNC || type === MESSAGE_SYNC_REPLY) {
          const step = decoding.readVarUint(decoder)
          if (step === SYNC_UPDATE) client.onUpdate(decoding.readVarUint8Array(decoder), at)
          else if (step === SYNC_STEP_2) {
            clearTimeout(timer)
            socket.removeAllListeners('error')
            socket.removeAllListeners('close')
            socket.on('error', () => {})
            resolve(client)
          }
        } else if (type === MESSAGE_SYNC_STATUS) {
          client.onSaved(at)
        } else if (type === MESSAGE_AUTH) {
          const status = decoding.readVarUint(decoder)
          if (status === AUTH_AUTHENTICATED) {
            // Sync step 1 with an empty state vector: "send me everything".
            socket.send(client.frame(MESSAGE_SYNC, SYNC_STEP_1, (e) => encoding.writeVarUint8Array(e, new Uint8Array([0]))))
          } else if (status === AUTH_PERMISSION_DENIED) {
            fail(new Error(`permission denied: ${decoding.readVarString(decoder)}`))
          }
        }
      })
    })
  }

  sendUpdate(update: Uint8Array): void {
    this.socket.send(this.frame(MESSAGE_SYNC, SYNC_UPDATE, (e) => encoding.writeVarUint8Array(e, update)))
  }

  close(): void {
    this.socket.terminate()
  }

  private frame(type: number, subtype: number, body: (encoder: encoding.Encoder) => void): Uint8Array {
    const encoder = encoding.createEncoder()
    encoding.writeVarString(encoder, this.document)
    encoding.writeVarUint(encoder, type)
    encoding.writeVarUint(encoder, subtype)
    body(encoder)
    return encoding.toUint8Array(encoder)
  }
}

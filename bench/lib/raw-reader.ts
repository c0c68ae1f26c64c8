// A Mini App reader as bare as it gets: one WebSocket speaking just enough of
// the Hocuspocus protocol (auth frame with a token, sync step 1 with an empty
// state vector), no Y.Doc, no awareness. A thousand of them fit in the bench
// process, so the server's side of each connection is what gets measured.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'

const MESSAGE_SYNC = 0
const MESSAGE_AUTH = 2
const AUTH_TOKEN = 0
const AUTH_PERMISSION_DENIED = 1
const AUTH_AUTHENTICATED = 2
const SYNC_STEP_1 = 0
const SYNC_STEP_2 = 1
const SYNC_UPDATE = 2

export class RawReader {
  readonly socket: WebSocket
  /** performance.now() of every sync update received (not the initial state). */
  readonly updates: number[] = []
  private readonly documentName: string
  readonly ready: Promise<void>

  constructor(url: string, documentName: string, token: string, providerVersion: string) {
    this.documentName = documentName
    this.socket = new WebSocket(url)
    this.socket.binaryType = 'nodebuffer'
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('reader did not sync within 30 s')), 30_000)
      this.socket.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      this.socket.once('close', (code, reason) => {
        clearTimeout(timer)
        reject(new Error(`closed before sync: ${code} ${reason}`))
      })
      this.socket.on('message', (data: Buffer) => {
        const received = performance.now()
        const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        decoding.readVarString(decoder)
        const type = decoding.readVarUint(decoder)
        if (type === MESSAGE_AUTH) {
          const auth = decoding.readVarUint(decoder)
          if (auth === AUTH_PERMISSION_DENIED) reject(new Error(`refused: ${decoding.readVarString(decoder)}`))
          else if (auth === AUTH_AUTHENTICATED) this.send(this.syncStep1())
        } else if (type === MESSAGE_SYNC) {
          const step = decoding.readVarUint(decoder)
          if (step === SYNC_STEP_2) {
            clearTimeout(timer)
            resolve()
          } else if (step === SYNC_UPDATE) this.updates.push(received)
        }
      })
      this.socket.once('open', () => this.send(this.auth(token, providerVersion)))
    })
  }

  close(): void {
    this.socket.terminate()
  }

  private send(message: Uint8Array): void {
    this.socket.send(message)
  }

  private auth(token: string, providerVersion: string): Uint8Array {
    const encoder = encoding.createEncoder()
    encoding.writeVarString(encoder, this.documentName)
    encoding.writeVarUint(encoder, MESSAGE_AUTH)
    encoding.writeVarUint(encoder, AUTH_TOKEN)
    encoding.writeVarString(encoder, token)
    encoding.writeVarString(encoder, providerVersion)
    return encoding.toUint8Array(encoder)
  }

  private syncStep1(): Uint8Array {
    const encoder = encoding.createEncoder()
    encoding.writeVarString(encoder, this.documentName)
    encoding.writeVarUint(encoder, MESSAGE_SYNC)
    encoding.writeVarUint(encoder, SYNC_STEP_1)
    // The state vector of an empty document: no clients.
    encoding.writeVarUint8Array(encoder, new Uint8Array([0]))
    return encoding.toUint8Array(encoder)
  }
}

// @botsync/testkit/raw-client: the Hocuspocus wire protocol without a
// provider. Frames are varString(document) varUint(messageType) …, with
// Hocuspocus' and y-protocols' own constants; the connection-level heartbeat
// is one byte each way, with no document name.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { AuthMessageType } from '@hocuspocus/common'
import { MessageType } from '@hocuspocus/server'
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync'
import { WebSocket } from 'ws'

export { AuthMessageType, MessageType }

export const PING = Uint8Array.of(MessageType.Ping)
export const PONG = Uint8Array.of(MessageType.Pong)

/** One message for `document`: the header, then what `body` writes. */
export function frame(document: string, type: number, body: (encoder: encoding.Encoder) => void = () => {}): Uint8Array<ArrayBuffer> {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, document)
  encoding.writeVarUint(encoder, type)
  body(encoder)
  // lib0 copies into a fresh ArrayBuffer, never a shared one: what the DOM's WebSocket.send accepts.
  return encoding.toUint8Array(encoder) as Uint8Array<ArrayBuffer>
}

/** A sync message: sync step 1 (a state vector), sync step 2 or an update. */
export function syncFrame(document: string, syncType: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  return frame(document, MessageType.Sync, (encoder) => {
    encoding.writeVarUint(encoder, syncType)
    encoding.writeVarUint8Array(encoder, payload)
  })
}

export const updateFrame = (document: string, update: Uint8Array) => syncFrame(document, messageYjsUpdate, update)

/** Authentication with a token; current providers append their version, which the server records. */
export function authFrame(document: string, token: string, providerVersion?: string): Uint8Array<ArrayBuffer> {
  return frame(document, MessageType.Auth, (encoder) => {
    encoding.writeVarUint(encoder, AuthMessageType.Token)
    encoding.writeVarString(encoder, token)
    if (providerVersion) encoding.writeVarString(encoder, providerVersion)
  })
}

/** A received message's header; `decoder` is positioned at what follows the type. Throws on a malformed header. */
export function decodeFrame(data: Uint8Array): { document: string; type: number; decoder: decoding.Decoder } {
  const decoder = decoding.createDecoder(data)
  const document = decoding.readVarString(decoder)
  const type = decoding.readVarUint(decoder)
  return { document, type, decoder }
}

/**
 * A Hocuspocus client for one document reduced to the protocol: authenticate
 * with a token, send sync step 1, answer the heartbeat, then report what
 * arrives: document updates to `onUpdate` with their arrival time, sync
 * statuses (also recorded in `statuses`), stateless payloads, the server's
 * sync step 1 requests and the close. No Y.Doc, no awareness, no provider
 * machinery, so a thousand of them fit in one process without the client side
 * dominating what a benchmark measures; tests send exactly the frames they mean.
 */
export class RawClient {
  /** Called for each update frame, with performance.now() at arrival. */
  onUpdate: (update: Uint8Array, at: number) => void = () => {}
  /** Called for each sync status frame (the server answered an update we sent). */
  onSaved: (at: number) => void = () => {}
  /** Every sync status so far: true = the server stored and applied the update. */
  readonly statuses: boolean[] = []
  /** Every stateless payload so far. */
  readonly stateless: string[] = []
  /** performance.now() of every sync step 1 from the server (it asks for what it lacks). */
  readonly syncStep1s: number[] = []
  /** How the socket closed, once it has. */
  closed: { code: number; reason: string } | null = null
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
    socket.on('close', (code, reason) => (client.closed = { code, reason: String(reason) }))
    return new Promise((resolve, reject) => {
      let synced = false
      const timer = setTimeout(() => fail(new Error(`${document}: not synced within ${timeoutMs} ms`)), timeoutMs)
      const fail = (error: Error) => {
        clearTimeout(timer)
        socket.terminate()
        reject(error)
      }
      const onError = (error: Error) => fail(error)
      const onClose = (code: number, reason: Buffer) => fail(new Error(`closed before sync: ${code} ${reason}`))
      socket.once('error', onError)
      socket.once('close', onClose)
      socket.once('open', () => socket.send(authFrame(document, token, options.providerVersion)))
      socket.on('message', (data: Buffer) => {
        const at = performance.now()
        if (data.length === 1) {
          if (data[0] === PING[0]) socket.send(PONG)
          return
        }
        const { type, decoder } = decodeFrame(data)
        if (type === MessageType.Sync || type === MessageType.SyncReply) {
          const step = decoding.readVarUint(decoder)
          if (step === messageYjsUpdate) client.onUpdate(decoding.readVarUint8Array(decoder), at)
          else if (step === messageYjsSyncStep1) client.syncStep1s.push(at)
          else if (step === messageYjsSyncStep2 && !synced) {
            synced = true
            clearTimeout(timer)
            socket.off('error', onError)
            socket.off('close', onClose)
            socket.on('error', () => {})
            resolve(client)
          }
        } else if (type === MessageType.SyncStatus) {
          client.statuses.push(decoding.readVarInt(decoder) === 1)
          client.onSaved(at)
        } else if (type === MessageType.Stateless) {
          client.stateless.push(decoding.readVarString(decoder))
        } else if (type === MessageType.Auth) {
          const status = decoding.readVarUint(decoder)
          if (status === AuthMessageType.Authenticated) {
            // Sync step 1 with an empty state vector: "send me everything".
            socket.send(syncFrame(document, messageYjsSyncStep1, new Uint8Array([0])))
          } else if (status === AuthMessageType.PermissionDenied) {
            fail(new Error(`permission denied: ${decoding.readVarString(decoder)}`))
          }
        }
      })
    })
  }

  sendUpdate(update: Uint8Array): void {
    this.socket.send(updateFrame(this.document, update))
  }

  /** The same bytes as sync step 2, the way a reconnecting provider sends its backlog. */
  sendSyncStep2(update: Uint8Array): void {
    this.socket.send(syncFrame(this.document, messageYjsSyncStep2, update))
  }

  /** The reasons of botsync's refusals (stateless `botsync:refused` messages) so far. */
  refusals(): string[] {
    return this.stateless
      .map((payload) => JSON.parse(payload))
      .filter((message) => message.type === 'botsync:refused')
      .map((message) => message.reason)
  }

  close(): void {
    this.socket.terminate()
  }
}

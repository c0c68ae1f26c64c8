import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { messageYjsSyncStep1, messageYjsSyncStep2 } from 'y-protocols/sync'
import { WebSocket } from 'ws'
import { AuthMessageType, authFrame, decodeFrame, MessageType, PING, PONG, syncFrame } from '@botsync/testkit/raw-client'

// Frames are encoded and decoded by the test kit's raw protocol client.
// Hocuspocus closes one document's connection on a multiplexed socket with a
// Close message (the socket itself may stay open); the reader gateway closes
// the socket.

/**
 * One authenticated raw socket that sends whatever the fuzzer makes and
 * finds out, after each frame, whether the server is still talking to it: the
 * answer to a sync step 1 probe comes back after the frame was handled,
 * because the server handles a socket's messages in order. A socket the server closed is
 * replaced by a fresh one before the next frame.
 */
export class FuzzSocket {
  readonly #url: string
  readonly #document: string
  readonly #token: () => string
  readonly #knownClients: number[]
  #socket: WebSocket | null = null
  /** The last frames sent, for the error message when the server stops answering. */
  readonly #recent: string[] = []
  #waiting: ((outcome: 'answered' | 'closed') => void) | null = null
  /** Sync status frames received: true = the server stored an update we sent. */
  saved = 0
  refused = 0
  closes = 0

  constructor(options: { url: string; document: string; token: () => string; clients: number[] }) {
    this.#url = options.url
    this.#document = options.document
    this.#token = options.token
    this.#knownClients = options.clients
  }

  /** Sends one frame and waits until the server has handled it (answered the probe) or closed the socket. */
  async send(frame: Uint8Array): Promise<'answered' | 'closed'> {
    const socket = await this.#open()
    const outcome = new Promise<'answered' | 'closed'>((resolve) => (this.#waiting = resolve))
    socket.send(frame)
    socket.send(this.#probeFrame())
    this.#recent.push(Buffer.from(frame).toString('hex').slice(0, 400))
    if (this.#recent.length > 4) this.#recent.shift()
    const result = await Promise.race([outcome, timeout(10_000, `${this.#document}: no answer to the probe after the frames ${this.#recent.join(' ')}`)])
    this.#waiting = null
    return result
  }

  close(): void {
    this.#socket?.terminate()
    this.#socket = null
  }

  /**
   * Sync step 1 with a state vector that claims every client the fuzzer
   * writes as (far) up to date, so the server's sync step 2 answer stays
   * small however much the document has grown.
   */
  #probeFrame(): Uint8Array {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, this.#knownClients.length)
    for (const client of this.#knownClients) {
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, 2 ** 31)
    }
    return syncFrame(this.#document, messageYjsSyncStep1, encoding.toUint8Array(encoder))
  }

  /** The server ended this socket's document connection; a later close event of the same socket is not news. */
  #closed(socket: WebSocket): void {
    if (this.#socket !== socket) return
    this.#socket = null
    this.closes += 1
    this.#waiting?.('closed')
  }

  async #open(): Promise<WebSocket> {
    if (this.#socket) return this.#socket
    const socket = new WebSocket(this.#url, { perMessageDeflate: false })
    this.#socket = socket
    let authenticated = false
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.#document}: not authenticated within 10 s`)), 10_000)
      socket.once('error', reject)
      socket.once('close', (code, reason) => reject(new Error(`${this.#document}: closed before authentication: ${code} ${reason}`)))
      socket.once('open', () => socket.send(authFrame(this.#document, this.#token())))
      socket.on('message', (data: Buffer) => {
        if (this.#socket !== socket) return
        if (data.length === 1) {
          if (data[0] === PING[0]) socket.send(PONG)
          return
        }
        try {
          const { type, decoder } = decodeFrame(data)
          if (type === MessageType.Auth) {
            const status = decoding.readVarUint(decoder)
            if (status === AuthMessageType.Authenticated && !authenticated) {
              authenticated = true
              clearTimeout(timer)
              socket.removeAllListeners('error')
              socket.removeAllListeners('close')
              socket.on('error', () => {})
              socket.on('close', () => this.#closed(socket))
              resolve()
            } else if (status === AuthMessageType.PermissionDenied && authenticated) {
              // The document is no longer served on this socket (say, the
              // fuzzer sent a Close message for it): start over on a new one.
              this.#closed(socket)
              socket.terminate()
            }
          } else if (type === MessageType.CLOSE) {
            this.#closed(socket)
            socket.terminate()
          } else if (type === MessageType.SyncStatus) {
            if (decoding.readVarUint(decoder) === 1) this.saved += 1
            else this.refused += 1
          } else if ((type === MessageType.Sync || type === MessageType.SyncReply) && decoding.readVarUint(decoder) === messageYjsSyncStep2) {
            this.#waiting?.('answered')
          }
        } catch {
          // The server sent something this client does not parse: not the probe's answer.
        }
      })
    })
    return socket
  }
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(what)), ms).unref())
}

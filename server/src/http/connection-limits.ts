import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Extension, onAuthenticatePayload } from '@hocuspocus/server'
import proxyaddr from 'proxy-addr'
import type { TrustProxy } from '../config.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'

/**
 * Set by admit() on every admitted /collab upgrade request (overwriting
 * whatever the client sent), so that Hocuspocus' onAuthenticate, which sees
 * the request's headers but not its socket, can tell which socket passed.
 */
export const CONNECTION_ID_HEADER = 'x-botsync-connection'

export interface ConnectionLimitsOptions {
  log: Logger
  metrics: Metrics
  /** Bytes a socket may send before it has authenticated. */
  pendingMaxBytes: number
  /** Time a socket has to authenticate. */
  authTimeoutMs: number
  /** Unauthenticated sockets at once. */
  maxPendingConnections: number
  /** Open sockets per client address (authenticated or not). */
  maxConnectionsPerIp: number
  trustProxy: TrustProxy
}

interface Pending {
  id: number
  socket: Duplex
  bytes: number
  /** Date.now() after which it is closed with 4401. */
  deadline: number
}

/**
 * What a WebSocket costs before it has proven anything. Hocuspocus queues up
 * to 5 MiB of frames per socket until authentication and keeps such a socket
 * 60–120 s, and nothing bounded how many there were (30 sockets held 180 MB).
 * Here, from the upgrade of /collab and /readers on, every socket is counted
 * per client address for its whole life, and until it authenticates it is
 * also counted among the pending ones, has a deadline and a byte budget.
 * Limits are refused at the upgrade (429, 503) or close the socket (1009,
 * 4401) with a reason. On /collab the bytes are counted on the TCP socket,
 * below ws, so a 1 MiB frame still being assembled counts too; the reader
 * gateway reports each frame (receivedFrame), its ws already refusing
 * frames over 16 KiB.
 *
 * Per socket there is no closure and no timer: the data listener is one
 * shared function (`this` is the socket), one sweep checks the deadlines (as
 * the reader gateway's heartbeat does), ids are small integers, and the
 * gateway reports a closed reader itself (release). Readers are budgeted per
 * byte: a listener, a timer and a UUID per socket moved the readers
 * benchmark's idle-reader figure from ~4 KB to 12-14 KB.
 *
 * It is an extension only for onAuthenticate: it runs last, so when it is
 * called every other onAuthenticate hook has passed and Hocuspocus is about
 * to accept the document.
 */
export class ConnectionLimits implements Extension {
  extensionName = 'botsync-connection-limits'
  private readonly options: ConnectionLimitsOptions
  private readonly trust: (address: string, hop: number) => boolean
  private readonly perAddress = new Map<string, number>()
  /** Every admitted socket still open: its id and client address. */
  private readonly openById = new Map<number, string>()
  private readonly pendingById = new Map<number, Pending>()
  /** Ids are small integers: an open socket's id costs no allocation. */
  private nextId = 1
  private readonly pendingBySocket = new Map<Duplex, Pending>()
  private readonly onData: (this: Duplex, chunk: Buffer) => void
  private sweep: NodeJS.Timeout | null = null

  constructor(options: ConnectionLimitsOptions) {
    this.options = options
    this.trust = compileTrust(options.trustProxy)
    const received = (socket: Duplex, bytes: number): void => this.received(socket, bytes)
    // A plain function: a socket's 'data' listener gets the socket as `this`, so one listener serves every socket.
    this.onData = function (this: Duplex, chunk: Buffer) {
      received(this, chunk.length)
    }
  }

  /** Unauthenticated sockets now. */
  get pending(): number {
    return this.pendingById.size
  }

  /** The client's address: the socket's, or from X-Forwarded-For as far as TRUST_PROXY trusts the hops. */
  clientAddress(request: IncomingMessage): string {
    const address = proxyaddr(request, this.trust)
    return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
  }

  /**
   * Whether the client reached us over https: TLS on this socket, or
   * `X-Forwarded-Proto: https` from a proxy TRUST_PROXY trusts (the first
   * value: the scheme the client used with the outermost proxy).
   */
  isHttps(request: IncomingMessage): boolean {
    if ((request.socket as { encrypted?: boolean }).encrypted) return true
    const peer = request.socket.remoteAddress
    if (!peer || !this.trust(peer, 0)) return false
    const header = request.headers['x-forwarded-proto']
    const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0].trim().toLowerCase()
    return first === 'https'
  }

  /**
   * Admits an upgrade or refuses it (answering the HTTP request itself).
   * Returns the connection id the request now carries in
   * CONNECTION_ID_HEADER, or null when refused. The caller calls
   * release(id) once the socket has closed (see admitUntilClose).
   */
  admit(request: IncomingMessage, socket: Duplex, head: Buffer, options: { countBytes: boolean } = { countBytes: true }): number | null {
    const address = this.clientAddress(request)
    const open = this.perAddress.get(address) ?? 0
    if (open >= this.options.maxConnectionsPerIp) {
      this.options.metrics.connections.refusedPerAddress += 1
      this.refuseUpgrade(socket, 429, 'Too Many Requests', 'too-many-connections', { address, open })
      return null
    }
    if (this.pendingById.size >= this.options.maxPendingConnections) {
      this.options.metrics.connections.refusedPending += 1
      this.refuseUpgrade(socket, 503, 'Service Unavailable', 'too-many-pending-connections', { address, pending: this.pendingById.size })
      return null
    }
    this.perAddress.set(address, open + 1)
    const id = this.nextId++
    this.openById.set(id, address)
    const pending: Pending = { id, socket, bytes: head.length, deadline: Date.now() + this.options.authTimeoutMs }
    this.pendingById.set(id, pending)
    if (options.countBytes) this.watchBytes(socket, pending)
    this.sweep ??= setInterval(() => this.expire(), Math.max(10, Math.min(1000, Math.floor(this.options.authTimeoutMs / 4))))
    this.sweep.unref()
    request.headers[CONNECTION_ID_HEADER] = String(id)
    return id
  }

  /** Bytes a socket sends before it authenticates: counted on the TCP socket, below ws. */
  private watchBytes(socket: Duplex, pending: Pending): void {
    this.pendingBySocket.set(socket, pending)
    // Adding a 'data' listener puts the socket in flowing mode before ws has
    // attached its own: safe, because nothing can arrive in between (ws takes
    // the socket over in the same tick chain, and a client sends nothing
    // before it has the 101 response; bytes read past the headers are `head`).
    socket.on('data', this.onData)
  }

  /**
   * For a caller that sees the socket's frames itself (the reader gateway,
   * whose ws refuses frames over READER_MAX_MESSAGE_BYTES): `bytes` more
   * received; past the budget before authentication the socket is closed.
   * Returns false then.
   */
  receivedFrame(id: number, bytes: number): boolean {
    const pending = this.pendingById.get(id)
    if (!pending) return true
    pending.bytes += bytes
    if (pending.bytes <= this.options.pendingMaxBytes) return true
    this.close(pending, 1009, 'too-many-bytes-before-authentication')
    return false
  }

  /** admit(), released when the socket closes: for /collab, whose sockets Hocuspocus owns. */
  admitUntilClose(request: IncomingMessage, socket: Duplex, head: Buffer): number | null {
    const id = this.admit(request, socket, head)
    if (id !== null) socket.once('close', () => this.release(id))
    return id
  }

  /** The socket `id` has closed: it no longer counts for its address (or as pending). */
  release(id: number): void {
    this.authenticated(id)
    const address = this.openById.get(id)
    if (address === undefined) return
    this.openById.delete(id)
    const left = (this.perAddress.get(address) ?? 1) - 1
    if (left > 0) this.perAddress.set(address, left)
    else this.perAddress.delete(address)
  }

  /** The socket has authenticated (a document on it): the pre-authentication limits no longer apply. */
  authenticated(id: number): void {
    const pending = this.pendingById.get(id)
    if (pending) this.settle(pending)
  }

  async onAuthenticate({ requestHeaders }: onAuthenticatePayload): Promise<void> {
    this.authenticated(Number(requestHeaders.get(CONNECTION_ID_HEADER)))
  }

  private received(socket: Duplex, bytes: number): void {
    const pending = this.pendingBySocket.get(socket)
    if (!pending) return
    pending.bytes += bytes
    if (pending.bytes > this.options.pendingMaxBytes) this.close(pending, 1009, 'too-many-bytes-before-authentication')
  }

  /** The one sweep: closes pending sockets past their deadline; stops when none are left. */
  private expire(): void {
    const now = Date.now()
    for (const pending of this.pendingById.values()) {
      if (pending.deadline <= now) this.close(pending, 4401, 'authentication-timeout')
    }
    if (this.pendingById.size === 0 && this.sweep) {
      clearInterval(this.sweep)
      this.sweep = null
    }
  }

  private settle(pending: Pending): void {
    if (!this.pendingById.delete(pending.id)) return
    if (this.pendingBySocket.delete(pending.socket)) pending.socket.off('data', this.onData)
  }

  /**
   * Closes an upgraded socket from below ws, which this class never sees:
   * a close frame written by hand (2 bytes of header, code, reason; ws
   * writes whole frames synchronously, so it cannot land inside one), then
   * no more reading, so nothing else is buffered, and the socket is
   * destroyed once the client has had a moment to read the frame.
   */
  private close(pending: Pending, code: number, reason: string): void {
    this.settle(pending)
    if (code === 4401) this.options.metrics.connections.authenticationTimeouts += 1
    else this.options.metrics.connections.tooManyBytes += 1
    this.options.log.info({ event: 'connection-closed', reason, code, bytes: pending.bytes })
    const { socket } = pending
    socket.pause()
    const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)])
    socket.end(Buffer.concat([Buffer.from([0x88, payload.length]), payload]))
    setTimeout(() => socket.destroy(), 1000).unref()
  }

  private refuseUpgrade(socket: Duplex, status: number, text: string, reason: string, detail: Record<string, unknown>): void {
    this.options.log.warn({ event: 'connection-refused', reason, ...detail })
    socket.end(`HTTP/1.1 ${status} ${text}\r\nRetry-After: 5\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`)
  }
}

/** TRUST_PROXY as proxy-addr's trust function (the same forms Express accepts for `trust proxy`). */
function compileTrust(trust: TrustProxy): (address: string, hop: number) => boolean {
  if (trust === true) return () => true
  if (trust === false) return () => false
  if (typeof trust === 'number') return (_address, hop) => hop < trust
  return proxyaddr.compile(trust)
}

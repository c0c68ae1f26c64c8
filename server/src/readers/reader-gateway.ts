import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Hocuspocus } from '@hocuspocus/server'
import { WebSocketServer, type WebSocket } from 'ws'
import { AccessDenied } from '../auth/roles.ts'
import type { Authenticator } from '../auth/authenticator.ts'
import { isEmptyUpdate, readOnlyRefusal } from '../client-frame.ts'
import type { ConnectionLimits } from '../http/connection-limits.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { PublicAudience } from './public-audience.ts'
import {
  decodeReaderFrame,
  encodeAuthenticated,
  encodeEmptyAwareness,
  encodePermissionDenied,
  encodeStateless,
  encodeSyncStatus,
  encodeSyncStep2,
  MalformedReaderFrame,
  PING_FRAME,
  PONG_BYTE,
  type ReaderFrame,
} from './reader-protocol.ts'
import { ReaderSession } from './reader-session.ts'

export const READERS_PATH = '/readers'

export interface ReaderGatewayOptions {
  /** Per-address and pre-authentication limits, shared with /collab. */
  limits: ConnectionLimits
  hocuspocus: () => Hocuspocus
  authenticator: Authenticator
  log: Logger
  metrics: Metrics
  /** Largest frame a reader may send (its token, a state vector); bigger closes with 1009. */
  maxMessageBytes: number
  /** More readers than this on one instance are turned away with 503 at the upgrade. */
  maxReaders: number
  /** Heartbeat period: a reader that sends nothing (not even the Pong) for one whole period is dropped. */
  pingIntervalMs: number
  /** How long a public document stays loaded after its last reader left. */
  documentGraceMs: number
  /** A reader with more than this many bytes unsent is dropped (it resyncs on reconnect). */
  maxBufferedBytes?: number
}

/** Frames a reader may send before its authentication has been decided. */
const MAX_PENDING_FRAMES = 16

/**
 * The heartbeat visits the readers in this many slices, one slice every
 * 1/HEARTBEAT_SLICES of the period (by connection id), so each reader is
 * still pinged once per period. 10,000 readers' pings and Pongs in one burst
 * took the event loop for hundreds of ms on a 2-core host: an edit's fan-out
 * or a new reader's sync arriving then waited behind all of them.
 */
const HEARTBEAT_SLICES = 10

/**
 * Where Mini App readers connect (`/readers`). Readers are many, untrusted
 * and read-only, so they do not get Hocuspocus connections: each of those
 * costs ~32 KB per idle socket (ClientConnection, Connection, the request, a
 * ping timer, crossws' peer), against a budget of 8 KB. Here a reader is a
 * `ws` socket plus a ReaderSession, served from one PublicAudience per public
 * document, speaking the provider's protocol for exactly what a reader does:
 * authenticate with Telegram initData, sync, receive updates, answer
 * heartbeats. Everything else it might send is refused here, in one place:
 * writes (read-only), other documents, awareness (readers are invisible).
 */
export class ReaderGateway {
  private readonly options: ReaderGatewayOptions
  private readonly maxBufferedBytes: number
  private readonly server: WebSocketServer
  private readonly sessions = new Set<ReaderSession>()
  private readonly audiences = new Map<string, Promise<PublicAudience>>()
  private readonly releases = new Map<string, NodeJS.Timeout>()
  private readonly heartbeat: NodeJS.Timeout
  /** The slice of readers (connectionId % HEARTBEAT_SLICES) the next heartbeat tick visits. */
  private beatSlice = 0
  private stopped = false

  constructor(options: ReaderGatewayOptions) {
    this.options = options
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024
    this.server = new WebSocketServer({
      noServer: true,
      // No per-socket tracking by ws (this.sessions is the registry) and no
      // compression: deflate keeps ~64 KB of zlib state per socket.
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxMessageBytes,
      // Readers send binary frames only; text frames are refused unread.
      skipUTF8Validation: true,
    })
    // One timer for all readers, not one per socket.
    this.heartbeat = setInterval(() => this.beat(), Math.max(1, Math.round(options.pingIntervalMs / HEARTBEAT_SLICES)))
    this.heartbeat.unref()
  }

  get readers(): number {
    return this.sessions.size
  }

  /** Takes over an HTTP upgrade on READERS_PATH. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A stopping server never gets here: HttpApi answers 503 for it.
    if (this.sessions.size >= this.options.maxReaders) {
      const reason = 'too-many-readers'
      this.options.log.warn({ event: 'reader-refused', reason, readers: this.sessions.size })
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`)
      return
    }
    // Its bytes before authentication are counted per frame in onMessage:
    // ws already bounds a frame in flight to READER_MAX_MESSAGE_BYTES.
    const connectionId = this.options.limits.admit(request, socket, head, { countBytes: false })
    if (connectionId === null) return
    let accepted = false
    this.server.handleUpgrade(request, socket, head, (ws) => {
      accepted = true
      this.accept(ws, socket, connectionId)
    })
    // ws decides synchronously (no verifyClient): a handshake it refused
    // (400, bad Sec-WebSocket-Key …) never becomes a session to forget().
    if (!accepted) this.options.limits.release(connectionId)
  }

  /** Closes every reader with 1001 (they reconnect elsewhere) and releases the public documents. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.heartbeat)
    for (const session of this.sessions) session.close(1001, 'server-shutting-down')
    for (const timer of this.releases.values()) clearTimeout(timer)
    this.releases.clear()
    const audiences = [...this.audiences.values()]
    this.audiences.clear()
    await Promise.all(
      audiences.map((audience) =>
        audience.then(
          (a) => a.close(),
          () => undefined,
        ),
      ),
    )
  }

  private accept(socket: WebSocket, tcp: Duplex, connectionId: number): void {
    const session = new ReaderSession(socket, tcp, connectionId)
    this.sessions.add(session)
    this.options.metrics.readers.connected += 1
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(session, data, isBinary))
    socket.on('close', () => this.forget(session))
    // ws reports oversize and invalid frames here, then closes (1009, 1002).
    socket.on('error', (error) => {
      this.options.metrics.readers.refusedFrames += 1
      this.options.log.info({ event: 'reader-frame-refused', reason: error.message })
    })
  }

  private onMessage(session: ReaderSession, data: Buffer, isBinary: boolean): void {
    session.alive = true
    if (!this.options.limits.receivedFrame(session.connectionId, data.length)) return
    if (!isBinary) {
      this.refuse(session, 1003, 'binary-frames-only', 'readers speak the binary Hocuspocus protocol')
      return
    }
    if (data.length === 1 && data[0] === PONG_BYTE) return
    let frame: ReaderFrame
    try {
      frame = decodeReaderFrame(data)
    } catch (error) {
      const message = error instanceof MalformedReaderFrame ? error.message : String(error)
      this.refuse(session, 1007, 'malformed-frame', message)
      return
    }
    if (session.pending) {
      if (session.pending.length >= MAX_PENDING_FRAMES) {
        this.refuse(session, 1008, 'too-many-frames-before-authentication', `more than ${MAX_PENDING_FRAMES} frames while authenticating`)
        return
      }
      session.pending.push(frame)
      return
    }
    this.handle(session, frame)
  }

  private handle(session: ReaderSession, frame: ReaderFrame): void {
    if (frame.type === 'auth') {
      void this.authenticate(session, frame.key, frame.token)
      return
    }
    if (frame.key !== session.key || !session.audience) {
      // Closing or chatting about a document it is not reading: nothing to do.
      if (frame.type === 'close' || frame.type === 'ignored') return
      session.send(encodePermissionDenied(frame.key, 'not-authenticated'), this.maxBufferedBytes)
      return
    }
    switch (frame.type) {
      case 'sync-step-1': {
        let missing: Uint8Array
        try {
          missing = session.audience.missing(frame.stateVector)
        } catch {
          this.refuse(session, 1007, 'malformed-frame', 'the state vector could not be decoded')
          return
        }
        // Hocuspocus would now ask for the reader's state and acknowledge it
        // (a reader has nothing to give); acknowledge the handshake directly,
        // which is what settles the provider's unsynced count.
        session.sendTogether([encodeSyncStep2(frame.key, missing), encodeSyncStatus(frame.key, true)], this.maxBufferedBytes)
        return
      }
      case 'write':
        this.refuseWrite(session, frame.key, frame.update)
        return
      case 'query-awareness':
        session.send(encodeEmptyAwareness(frame.key), this.maxBufferedBytes)
        return
      case 'close':
        this.unsubscribe(session)
        return
      case 'ignored':
        return
    }
  }

  /**
   * Decides a reader's token for one document (Authenticator.authorizeReader:
   * valid Telegram initData, and only the bot space's public document), then
   * subscribes it. Frames it sends meanwhile wait in `pending`.
   */
  private async authenticate(session: ReaderSession, key: string, token: string): Promise<void> {
    session.pending = []
    const answer = await this.decide(session, key, token)
    // A provider sends its sync step 1 right behind its token, without
    // waiting for the answer: then both answers (authenticated, then sync
    // step 2 and its status) leave in one socket write, not two. A write is
    // most of what a reader's connecting costs the server.
    session.corked(() => {
      if (answer) session.send(answer, this.maxBufferedBytes)
      this.replay(session)
    })
  }

  /** Authenticated (and subscribed) or permission denied, as the frame to answer with; nothing for a reader that left meanwhile. */
  private async decide(session: ReaderSession, key: string, token: string): Promise<Uint8Array | null> {
    const separator = key.indexOf('\0')
    const documentName = separator === -1 ? key : key.slice(0, separator)
    try {
      if (session.key !== null && session.key !== key) {
        throw new AccessDenied('one-document-per-connection', `this connection already reads "${session.key.slice(0, 200)}"`)
      }
      await this.options.authenticator.authorizeReader(token, documentName)
      const audience = await this.audience(documentName)
      if (!session.open) {
        // It left while the document loaded; do not keep the document for nobody.
        if (audience.size === 0) this.scheduleRelease(documentName)
        return null
      }
      this.cancelRelease(documentName)
      session.key = key
      session.audience = audience
      this.options.limits.authenticated(session.connectionId)
      audience.add(session, key)
      return encodeAuthenticated(key)
    } catch (error) {
      const reason = error instanceof AccessDenied ? error.reason : 'document-unavailable'
      this.options.metrics.readers.refused += 1
      this.options.log.warn({ event: 'reader-refused', reason, document: documentName.slice(0, 200) }, error instanceof Error ? error.message : String(error))
      return encodePermissionDenied(key, reason)
    }
  }

  /** Handles what arrived during an authentication, in order; a second auth among them queues the rest again. */
  private replay(session: ReaderSession): void {
    const queued = session.pending ?? []
    session.pending = null
    while (queued.length > 0) {
      // handle() may have started another authentication, which queues again.
      const pendingAgain = session.pending as ReaderFrame[] | null
      if (pendingAgain) {
        pendingAgain.push(...queued)
        return
      }
      this.handle(session, queued.shift()!)
    }
  }

  private refuseWrite(session: ReaderSession, key: string, update: Uint8Array): void {
    let empty: boolean
    try {
      empty = isEmptyUpdate(update)
    } catch {
      this.refuse(session, 1007, 'malformed-frame', 'the document update could not be decoded')
      return
    }
    // An empty sync step 2 is a provider answering with "nothing new": fine.
    if (empty) return
    const document = session.audience?.name ?? key
    this.options.metrics.refusedWrites += 1
    this.options.log.info({ event: 'write-refused', reason: 'read-only', role: 'reader', document })
    session.send(encodeSyncStatus(key, false), this.maxBufferedBytes)
    session.send(encodeStateless(key, readOnlyRefusal('reader', document)), this.maxBufferedBytes)
  }

  private refuse(session: ReaderSession, code: number, reason: string, detail: string): void {
    this.options.metrics.readers.refusedFrames += 1
    this.options.log.info({ event: 'reader-frame-refused', reason }, detail)
    session.close(code, reason)
  }

  /** One shared timer, one slice per tick: drop readers that went silent, ping the others, close sockets that never authenticated. */
  private beat(): void {
    const slice = this.beatSlice
    this.beatSlice = (slice + 1) % HEARTBEAT_SLICES
    for (const session of this.sessions) {
      if (session.connectionId % HEARTBEAT_SLICES !== slice) continue
      if (!session.audience && !session.pending && ++session.idleBeats >= 2) {
        session.close(4401, 'authentication-timeout')
        continue
      }
      if (!session.alive) {
        // No Pong and nothing else for a whole period: the peer is gone.
        session.socket.terminate()
        continue
      }
      session.alive = false
      session.send(PING_FRAME, this.maxBufferedBytes)
    }
  }

  private forget(session: ReaderSession): void {
    if (!this.sessions.delete(session)) return
    this.options.limits.release(session.connectionId)
    this.options.metrics.readers.disconnected += 1
    this.unsubscribe(session)
    session.pending = null
  }

  private unsubscribe(session: ReaderSession): void {
    const { audience, key } = session
    session.audience = null
    session.key = null
    if (!audience || key === null) return
    audience.remove(session, key)
    if (audience.size === 0) this.scheduleRelease(audience.name)
  }

  /** The audience of a public document, opening (loading) it once however many readers arrive at once. */
  private audience(name: string): Promise<PublicAudience> {
    let audience = this.audiences.get(name)
    if (!audience) {
      audience = PublicAudience.open(this.options.hocuspocus(), name, this.maxBufferedBytes, this.options.metrics)
      this.audiences.set(name, audience)
      // A failed load is not cached: the next reader tries again.
      audience.catch(() => this.audiences.get(name) === audience && this.audiences.delete(name))
    }
    return audience
  }

  /** Keeps an audience-less document loaded a little while, so readers coming and going do not reload it each time. */
  private scheduleRelease(name: string): void {
    if (this.stopped || this.releases.has(name)) return
    const timer = setTimeout(() => {
      this.releases.delete(name)
      const audience = this.audiences.get(name)
      if (!audience) return
      void audience
        .then(
          (a) => {
            if (a.size > 0 || this.audiences.get(name) !== audience) return
            this.audiences.delete(name)
            return a.close()
          },
          () => undefined,
        )
        .catch((error: unknown) => this.options.log.warn({ event: 'reader-document-release-failed', document: name, err: error }))
    }, this.options.documentGraceMs)
    timer.unref()
    this.releases.set(name, timer)
  }

  private cancelRelease(name: string): void {
    const timer = this.releases.get(name)
    if (!timer) return
    clearTimeout(timer)
    this.releases.delete(name)
  }
}

import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { PublicAudience } from './public-audience.ts'
import type { ReaderFrame } from './reader-protocol.ts'

/**
 * One reader's socket and the little the gateway keeps about it. Kept small
 * on purpose: an idle reader is this object, its `ws` socket and one entry in
 * a Set, which is what the ≤ 8 KB per idle reader budget pays for.
 */
export class ReaderSession {
  readonly socket: WebSocket
  /** The TCP socket under `socket`, for corking several frames into one write. */
  private readonly tcp: Duplex
  /** The document key (name, or name\0sessionId) this reader is subscribed to, once authenticated. */
  key: string | null = null
  audience: PublicAudience | null = null
  /** Frames that arrived while an authentication was pending; replayed in order after it. */
  pending: ReaderFrame[] | null = null
  /** Set by any frame from the reader, cleared by each heartbeat: still clear at the next one means gone. */
  alive = true
  /** Heartbeats passed without a subscription: a socket that never authenticates is closed. */
  idleBeats = 0
  /** Its entry in ConnectionLimits (released when the socket closes). */
  readonly connectionId: number

  constructor(socket: WebSocket, tcp: Duplex, connectionId: number) {
    this.socket = socket
    this.tcp = tcp
    this.connectionId = connectionId
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN
  }

  /**
   * Sends unless the reader is not keeping up: past `maxBuffered` bytes
   * waiting in its socket, it is dropped rather than buffered without bound.
   * It loses nothing by that: on reconnecting it syncs from its state vector.
   */
  send(frame: Uint8Array, maxBuffered: number): boolean {
    if (!this.open) return false
    if (this.socket.bufferedAmount > maxBuffered) {
      this.socket.terminate()
      return false
    }
    this.socket.send(frame)
    return true
  }

  /**
   * Several frames in one socket write: ws writes each frame on its own
   * (one syscall each, most of what a send costs on loopback); corked, the
   * frames `send` inside leave together.
   */
  corked(send: () => void): void {
    this.tcp.cork()
    try {
      send()
    } finally {
      this.tcp.uncork()
    }
  }

  /** The sync answer's two frames, in one write. */
  sendTogether(frames: Uint8Array[], maxBuffered: number): void {
    this.corked(() => {
      for (const frame of frames) if (!this.send(frame, maxBuffered)) return
    })
  }

  close(code: number, reason: string): void {
    if (this.open) this.socket.close(code, reason)
  }
}

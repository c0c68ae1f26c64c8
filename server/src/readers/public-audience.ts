import type { Hocuspocus } from '@hocuspocus/server'
import * as Y from 'yjs'
import type { Metrics } from '../metrics.ts'
import { encodeUpdate } from './reader-protocol.ts'
import type { ReaderSession } from './reader-session.ts'

type DirectConnection = Awaited<ReturnType<Hocuspocus['openDirectConnection']>>

/**
 * The readers of one `<space>/public` document on this instance. It holds the
 * document loaded through one direct connection (so Hocuspocus' load hooks
 * run: the stored state, then the public projection brought up to date) and
 * relays every update of it to every reader: encoded once per document key,
 * not once per reader. Updates reach the document only after they are
 * committed (the projection commits before applying; other instances' updates
 * arrive through Redis already committed), so readers never see content that
 * a crash could take back.
 */
export class PublicAudience {
  readonly name: string
  private readonly connection: DirectConnection
  private readonly document: Y.Doc
  /** Readers by the key they subscribed with; almost always the one plain document name. */
  private readonly readers = new Map<string, Set<ReaderSession>>()
  private readonly maxBuffered: number
  private readonly metrics: Metrics
  private count = 0
  /** The whole document as one update, for readers arriving with nothing; dropped on every change. */
  private fullState: Uint8Array | null = null
  private readonly onUpdate = (update: Uint8Array): void => {
    this.fullState = null
    this.broadcast(update)
  }

  private constructor(name: string, connection: DirectConnection, maxBuffered: number, metrics: Metrics) {
    this.name = name
    this.connection = connection
    this.document = connection.document!
    this.maxBuffered = maxBuffered
    this.metrics = metrics
    this.document.on('update', this.onUpdate)
  }

  static async open(hocuspocus: Hocuspocus, name: string, maxBuffered: number, metrics: Metrics): Promise<PublicAudience> {
    return new PublicAudience(name, await hocuspocus.openDirectConnection(name, { readerGateway: true }), maxBuffered, metrics)
  }

  get size(): number {
    return this.count
  }

  add(session: ReaderSession, key: string): void {
    let readers = this.readers.get(key)
    if (!readers) this.readers.set(key, (readers = new Set()))
    if (readers.has(session)) return
    readers.add(session)
    this.count += 1
  }

  remove(session: ReaderSession, key: string): void {
    const readers = this.readers.get(key)
    if (!readers?.delete(session)) return
    this.count -= 1
    if (readers.size === 0) this.readers.delete(key)
  }

  /** Sync step 2's payload: what a reader with this state vector is missing. Throws on a corrupt state vector. */
  missing(stateVector: Uint8Array): Uint8Array {
    // A page opening fresh has an empty state vector (one zero byte). When a
    // restart or a broadcast link sends thousands at once, they all get the
    // same bytes, encoded once.
    if (stateVector.length === 1 && stateVector[0] === 0) return (this.fullState ??= Y.encodeStateAsUpdate(this.document))
    return Y.encodeStateAsUpdate(this.document, stateVector)
  }

  /** Stops relaying and lets Hocuspocus unload the document. */
  async close(): Promise<void> {
    this.document.off('update', this.onUpdate)
    await this.connection.disconnect()
  }

  private broadcast(update: Uint8Array): void {
    const started = performance.now()
    for (const [key, readers] of this.readers) {
      const frame = encodeUpdate(key, update)
      for (const reader of readers) reader.send(frame, this.maxBuffered)
    }
    // One socket write per reader (the kernel's loopback or NIC path is most
    // of it): the part of a fan-out that grows with readers on one instance.
    if (this.count > 0) this.metrics.onReaderBroadcast?.(performance.now() - started)
  }
}

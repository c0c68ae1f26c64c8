import { isTransactionOrigin, OutgoingMessage, type Connection, type Document } from '@hocuspocus/server'
import * as Y from 'yjs'

type Encode = (messageAddress: string) => Uint8Array
type Filter = (connection: Connection) => boolean

/**
 * Document.broadcast and Document.broadcastUpdate: private in Hocuspocus'
 * types. Every update, awareness and stateless broadcast goes through
 * `broadcast`; `broadcastUpdate` is the one for document updates.
 */
interface Broadcasting {
  broadcast(encode: Encode, filter?: Filter): void
  broadcastUpdate(update: Uint8Array): void
}

/** Event-loop time one slice of a broadcast may take before it yields (BROADCAST_SLICE_MS). */
export const DEFAULT_BROADCAST_SLICE_MS = 2

/** Sends between two looks at the clock (with a slice of 0 ms: every send). */
const CLOCK_EVERY = 8

/** One broadcast on its way: what it sends, the connections it goes to (as when it started) and how far it got. */
interface Outgoing {
  /** A document update broadcast: its updates, merged when it starts (several queued meanwhile). */
  updates: Uint8Array[] | null
  encode: Encode
  filter: Filter | undefined
  /** Taken when its first message goes out, so a connection that synced before that misses nothing merged into it. */
  connections: Connection[] | null
  next: number
  /** The last encoding, by message address (one entry, as Hocuspocus' own broadcast). */
  address: string | undefined
  message: Uint8Array | undefined
  /** Counted in BroadcastStats.sliced. */
  sliced: boolean
  /** The one connection every update in it came from: it holds them already (see SlicedBroadcast.originOf). */
  origin: Connection | null
}
export interface BroadcastStats {
  /** Broadcasts that did not fit in one slice. */
  sliced: number
  /** Times a broadcast gave the event loop back before going on. */
  yields: number
}

/**
 * Hocuspocus sends each broadcast to all of a document's connections in one
 * synchronous loop: one `writev` per socket, ~20 µs each on loopback, so
 * 1,000 readers hold the event loop ~20 ms (30-110 ms on the shared 2-core
 * machine at load 4-7). Vanilla Hocuspocus acknowledges an edit in the turn
 * it reads it, so that loop only ever follows the ack. botsync commits
 * first: between sending edit n+1's INSERT and handling its reply the event
 * loop is free, and the setImmediate broadcast of edit n ran there, so the
 * ack of n+1, its commit timing and its own broadcast waited for a whole
 * 1,000-socket broadcast. Profiled in the fan-out bench (issue #17, CPU
 * profile and append timestamps of one run): of the four appends slower
 * than 40 ms, three (97, 53, 43 ms; p50 1.9 ms) had the previous edit's
 * broadcast running inside them, the fourth waited on PostgreSQL; after one
 * slow edit each next one waited for its predecessor's broadcast in turn.
 * The first-reader and "saved" p99 followed (~75 ms, against vanilla's ~5).
 *
 * This sends a broadcast in slices of `sliceMs` of event-loop time and
 * yields (setImmediate) in between, so commit replies, acks and newly read
 * edits get their turn within one slice. The first slice goes out at once,
 * so a document with few connections is sent in one go as before.
 * Broadcasts of one document leave in the order they were made, each to
 * every connection before the next starts, so no connection sees updates
 * out of order; document updates made while earlier broadcasts are still
 * going out wait merged into one. A broadcast goes to the connections the
 * document has when it starts: one that joined before got the updates it
 * holds in its sync anyway, one that left, or closed, is skipped.
 */
export class SlicedBroadcast {
  private readonly document: Document
  private readonly sliceMs: number
  private readonly stats: BroadcastStats
  private readonly queue: Outgoing[] = []
  /**
   * The connection each client update was applied from. Hocuspocus sends a
   * document update to every connection, its sender included: that echo is
   * a whole WebSocket write for the server and a decode plus a no-op apply
   * for the client, per edit — with one writer per document, half of what
   * the server sends. Its sender already holds it, so it is left out; a
   * broadcast merging updates of several connections goes to all of them,
   * and so does one that may carry others' waiting changes (see install).
   */
  private readonly originOf = new WeakMap<Uint8Array, Connection>()
  /** A drain is running or scheduled: new broadcasts only queue. */
  private busy = false
  private sent = 0

  private constructor(document: Document, sliceMs: number, stats: BroadcastStats) {
    this.document = document
    this.sliceMs = sliceMs
    this.stats = stats
  }

  /** Makes every broadcast of `document` go out in slices. */
  static install(document: Document, sliceMs: number, stats: BroadcastStats): void {
    const sliced = new SlicedBroadcast(document, sliceMs, stats)
    // A transaction that starts with updates waiting for content (pending
    // structs or deletions) may integrate them once this one supplies it:
    // its update then holds other clients' changes its sender may lack.
    let waitingBefore = false
    document.on('beforeTransaction', () => {
      waitingBefore = document.store.pendingStructs !== null || document.store.pendingDs !== null
    })
    // Registered after Hocuspocus' own handler, which only queues the update
    // for a flush in a later turn (setImmediate), so this runs before it is broadcast.
    document.on('update', (update: Uint8Array, origin: unknown) => {
      if (!waitingBefore && isTransactionOrigin(origin) && origin.source === 'connection') sliced.originOf.set(update, origin.connection)
    })
    const broadcasting = document as unknown as Broadcasting
    broadcasting.broadcast = (encode, filter) => sliced.enqueue(null, encode, filter)
    broadcasting.broadcastUpdate = (update) => sliced.broadcastUpdate(update)
  }

  /**
   * While earlier broadcasts are still going out, updates made meanwhile wait
   * merged into one (as Hocuspocus merges those of one event-loop turn): a
   * loaded instance sends each reader one message for them, not one each.
   */
  private broadcastUpdate(update: Uint8Array): void {
    const origin = this.originOf.get(update) ?? null
    const last = this.queue.at(-1)
    if (last?.updates && last.connections === null) {
      last.updates.push(update)
      if (last.origin !== origin) last.origin = null
      return
    }
    const updates = [update]
    const encode = (address: string) =>
      new OutgoingMessage(address)
        .createSyncMessage()
        .writeUpdate(updates.length === 1 ? updates[0] : Y.mergeUpdates(updates))
        .toUint8Array()
    this.enqueue(updates, encode, undefined, origin)
  }

  private enqueue(updates: Uint8Array[] | null, encode: Encode, filter: Filter | undefined, origin: Connection | null = null): void {
    if (this.document.getConnectionsCount() === 0) return
    this.queue.push({ updates, encode, filter, connections: null, next: 0, address: undefined, message: undefined, sliced: false, origin })
    if (!this.busy) this.drain()
  }

  private readonly drain = (): void => {
    this.busy = true
    const deadline = performance.now() + this.sliceMs
    try {
      while (this.queue.length > 0) {
        const outgoing = this.queue[0]
        const connections = (outgoing.connections ??= this.document.getConnections())
        while (outgoing.next < connections.length) {
          const connection = connections[outgoing.next++]
          // Left this document meanwhile (its socket may stay open for others).
          if (!this.document.hasConnection(connection)) continue
          if (outgoing.filter && !outgoing.filter(connection)) continue
          if (connection === outgoing.origin) continue
          const address = connection.messageAddress
          if (outgoing.message === undefined || address !== outgoing.address) {
            outgoing.address = address
            outgoing.message = outgoing.encode(address)
          }
          // Connection.send skips closing and closed sockets itself.
          connection.send(outgoing.message)
          // The clock every CLOCK_EVERY sends: a send is ~20 µs, reading the clock ~1 µs.
          if (++this.sent % CLOCK_EVERY !== 0 && this.sliceMs > 0) continue
          if (performance.now() >= deadline && (outgoing.next < connections.length || this.queue.length > 1)) {
            if (outgoing.next < connections.length && !outgoing.sliced) {
              outgoing.sliced = true
              this.stats.sliced += 1
            }
            this.stats.yields += 1
            setImmediate(this.resume)
            return
          }
        }
        this.queue.shift()
      }
      this.busy = false
    } catch (error) {
      // As Hocuspocus' own loop: the broadcast that threw ends there (and
      // throws to whoever called it); the ones after it still go out.
      this.queue.shift()
      if (this.queue.length > 0) setImmediate(this.resume)
      else this.busy = false
      throw error
    }
  }

  /**
   * A later slice runs from setImmediate, where a throw would be an uncaught
   * exception and stop the server; it is logged instead (the server logs the
   * console as `event: "console"`), and the broadcasts after it go on.
   */
  private readonly resume = (): void => {
    try {
      this.drain()
    } catch (error) {
      console.error('a sliced broadcast failed', error)
    }
  }
}

import type { DecodedUpdate } from '@botsync/persistence'
import * as Y from 'yjs'

/** How often one document's size may be measured exactly (encoding it whole). */
export const REMEASURE_INTERVAL_MS = 1000

interface TrackedDocument {
  doc: Y.Doc
  /** Estimate of the encoded state: measured (at load or later) plus every update applied since. */
  bytes: number
  /** Accepted client updates not applied yet (being committed). */
  inFlight: number
  measuredAt: number
  changedSinceMeasure: boolean
  listener: (update: Uint8Array) => void
}

/**
 * MAX_DOCUMENT_BYTES without encoding a document per update: each loaded
 * document's size is its encoded state at load plus the bytes of every update
 * applied since (from clients, other instances or the server itself), plus
 * accepted updates still being committed. Updates overlap and deletions
 * shrink the real state, so the estimate only grows faster than the truth;
 * when it says "too large", the document is measured exactly (at most once a
 * second per document) before anything is refused.
 */
export class DocumentSizes {
  readonly maxBytes: number
  private readonly documents = new Map<string, TrackedDocument>()

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  track(name: string, doc: Y.Doc, loadedBytes: number): void {
    this.untrack(name)
    const tracked: TrackedDocument = {
      doc,
      bytes: loadedBytes,
      inFlight: 0,
      measuredAt: performance.now(),
      changedSinceMeasure: false,
      listener: (update) => {
        tracked.bytes += update.byteLength
        tracked.changedSinceMeasure = true
      },
    }
    doc.on('update', tracked.listener)
    this.documents.set(name, tracked)
  }

  untrack(name: string): void {
    const tracked = this.documents.get(name)
    if (!tracked) return
    tracked.doc.off('update', tracked.listener)
    this.documents.delete(name)
  }

  /**
   * Reserves room for `bytes` more; false when the document would grow past
   * the limit. A reservation ends with release() once the update is applied
   * (or was not stored after all).
   */
  reserve(name: string, bytes: number, now = performance.now()): boolean {
    const tracked = this.documents.get(name)
    if (!tracked) return true
    if (tracked.bytes + tracked.inFlight + bytes > this.maxBytes && tracked.changedSinceMeasure && now - tracked.measuredAt >= REMEASURE_INTERVAL_MS) {
      tracked.bytes = Y.encodeStateAsUpdate(tracked.doc).byteLength
      tracked.measuredAt = now
      tracked.changedSinceMeasure = false
    }
    if (tracked.bytes + tracked.inFlight + bytes > this.maxBytes) return false
    tracked.inFlight += bytes
    return true
  }

  release(name: string, bytes: number): void {
    const tracked = this.documents.get(name)
    if (tracked) tracked.inFlight = Math.max(0, tracked.inFlight - bytes)
  }

  /** The current estimate (for tests and /health). */
  estimate(name: string): number | null {
    const tracked = this.documents.get(name)
    return tracked ? tracked.bytes + tracked.inFlight : null
  }
}

/**
 * An update without structs whose deletions all name content the document
 * has: it can only make the document smaller, so the size limit lets it
 * through (a full document can be cleaned up). Deletions of clocks the
 * document lacks would be kept as pending and grow it: those count.
 */
export function onlyDeletesKnownContent(doc: Y.Doc, update: Uint8Array | DecodedUpdate): boolean {
  // A V1 update starts with the number of clients that have structs in it.
  if (update instanceof Uint8Array && update[0] !== 0) return false
  const { structs, ds } = update instanceof Uint8Array ? Y.decodeUpdate(update) : update
  if (structs.length > 0) return false
  for (const [client, ranges] of ds.clients) {
    const state = Y.getState(doc.store, client)
    for (const { clock, len } of ranges) if (clock + len > state) return false
  }
  return true
}

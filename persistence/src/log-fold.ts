import * as Y from 'yjs'
import { statePieces } from './state-pieces.ts'
import { TypingRuns } from './typing-runs.ts'

/** One row of `document_updates`, as the packed read returns it. */
export interface LogRow {
  id: number
  update: Uint8Array
}

/** Says why `update` would not integrate into `doc`, without changing `doc`; null when it would. */
export type IntegrationCheck = (doc: Y.Doc, update: Uint8Array) => string | null

export interface RejectedRow {
  id: number
  /** Stable kebab-case reason first, then detail (what ends up in quarantined_updates.error). */
  problem: string
}

export interface FoldResult {
  /** Snapshot and every accepted row in one update (of a garbage-collected doc). */
  state: Uint8Array
  rejected: RejectedRow[]
  /**
   * The same content as a sequence of updates that, applied in order, give
   * `state` (see statePieces). Only when asked for and the state is large
   * (PIECES_MIN_STATE_BYTES): a server applies these with the event loop
   * free in between, where `state` would be one long synchronous apply.
   */
  pieces?: Uint8Array[]
}

/**
 * Fold results from this size on also come as pieces. Measured: applying a
 * 306 KB state (100k typed characters, ~20k cursor jumps) to a fresh doc
 * takes 13–58 ms, a 3 MB one (1M characters) 350–450 ms, all in one call;
 * below 64 KB it stays under ~5 ms.
 */
export const PIECES_MIN_STATE_BYTES = 64 * 1024

/**
 * Rows applied per Yjs transaction. One transaction for everything is
 * linear too, but its cleanup at the end (merging structs, the delete set of
 * the whole log) is one long step; measured on 100k one-character edits,
 * chunks of 1,000 were as fast or faster (127–169 ms vs 148–214 ms for one
 * transaction) and memory stays flat.
 */
const ROWS_PER_TRANSACTION = 1000

/** Rebuilds from scratch after an apply threw; beyond this many the log is given up on (it stays intact). */
const MAX_REBUILDS = 64

/**
 * Snapshot + log rows → one state, in linear time: each row is applied, in
 * order, to one Y.Doc, and the doc is encoded once. (`Y.mergeUpdates` over a
 * whole log is quadratic: 5k one-character updates took 0.5 s, 20k 8 s.)
 *
 * Rows of the shapes typing makes are gathered and applied together
 * (TypingRuns, which checks them itself): a 100k-row log of one-character
 * edits folds in a fraction of the time of applying each row alone. Every
 * other row drains what is gathered first and is checked and applied alone.
 *
 * A row that would not integrate is skipped and reported instead of
 * poisoning the document: `check` looks at each row before it is applied.
 * As a second line of defence, a row whose apply throws anyway leaves the doc
 * half-changed, so the fold starts again from the snapshot without it (one
 * row per transaction from then on, so the culprit is known exactly).
 *
 * A row that throws while the doc holds pending structs may be innocent:
 * Yjs retries what is pending after every update, so a pending bad struct
 * throws on whichever row lets it integrate. Blaming the rows that left
 * things pending would quarantine innocent ones (and a log with more of
 * them than MAX_REBUILDS would not load at all), so the fold starts again
 * and, just before that row, drops what is pending; only if the row throws
 * on its own then is it rejected. The live server (y-protocols swallows the
 * throw) may have applied part of it; after a reload both agree.
 */
export function foldLog(snapshot: Uint8Array | null, log: LogRow[] | LogRows, check: IntegrationCheck, options: { pieces?: boolean } = {}): FoldResult {
  const rows = Array.isArray(log) ? LogRows.of(log) : log
  const rejected = new Map<number, string>()
  /** Rows before which what is pending is dropped (see above). */
  const dropPendingBefore = new Set<number>()
  let perTransaction = ROWS_PER_TRANSACTION
  // Typing rows are gathered and applied together (TypingRuns); after a throw, every row alone.
  let batching = true
  for (let attempt = 0; ; attempt++) {
    // A fixed guid: the default is a uuidv4 made of 31 crypto calls, and a fold's doc is never shared.
    const doc = new Y.Doc({ gc: true, guid: 'botsync-fold' })
    const batch = batching ? new TypingRuns(doc) : null
    let applying = -1
    let applyingBatch = false
    let pendingBefore = false
    const applyBatch = () => {
      const gathered = batch?.drain()
      if (!gathered) return
      applyingBatch = true
      Y.applyUpdate(doc, gathered)
      applyingBatch = false
    }
    try {
      // A snapshot that does not apply is not something to skip: it throws to the caller.
      if (snapshot) Y.applyUpdate(doc, snapshot)
      for (let start = 0; start < rows.count; start += perTransaction) {
        doc.transact(() => {
          const end = Math.min(rows.count, start + perTransaction)
          for (let i = start; i < end; i++) {
            if (rejected.has(i)) continue
            // Only while nothing is pending: Yjs retries pending structs after every update, the batch would reorder that.
            if (batch && doc.store.pendingStructs === null && doc.store.pendingDs === null && !dropPendingBefore.has(i) && batch.take(rows.buffer(i), rows.start[i], rows.end[i]))
              continue
            applyBatch()
            const update = rows.update(i)
            const problem = check(doc, update)
            if (problem !== null) {
              rejected.set(i, problem)
              continue
            }
            if (dropPendingBefore.has(i)) {
              doc.store.pendingStructs = null
              doc.store.pendingDs = null
            }
            applying = i
            pendingBefore = doc.store.pendingStructs !== null || doc.store.pendingDs !== null
            Y.applyUpdate(doc, update)
            applying = -1
          }
          applyBatch()
        })
      }
      const state = encodeState(doc)
      return {
        state,
        rejected: [...rejected].sort((a, b) => a[0] - b[0]).map(([i, problem]) => ({ id: rows.ids[i], problem })),
        ...(options.pieces && state.byteLength >= PIECES_MIN_STATE_BYTES ? { pieces: [...statePieces(doc), ...pendingUpdates(doc)] } : {}),
      }
    } catch (error) {
      if ((applying === -1 && !applyingBatch) || attempt >= MAX_REBUILDS) throw error
      // A batch that threw (it should not: its rows were checked) is redone row by row, which finds the culprit.
      if (applyingBatch) batching = false
      else if (pendingBefore && !dropPendingBefore.has(applying)) dropPendingBefore.add(applying)
      else rejected.set(applying, `apply-threw: ${error instanceof Error ? error.message : String(error)}`)
      perTransaction = 1
    } finally {
      doc.destroy()
    }
  }
}

/**
 * The log as PostgreSQL packs it for the read (see PACKED_ROW in
 * document-store.ts): per row an 8-byte big-endian id, a 4-byte big-endian
 * length and the update bytes. One bytea per page instead of one result row
 * per update: pg's per-row parsing of 100k rows is main-thread time; a hex
 * decode of one value is a native call.
 */
export function unpackLog(packed: Uint8Array): LogRow[] {
  const rows = LogRows.unpack([packed])
  return Array.from(rows.ids, (id, i) => ({ id, update: rows.update(i) }))
}

/**
 * Log rows as offsets into their buffers (packed pages, see unpackLog),
 * not an object and a Uint8Array view per row: for 100k rows those
 * allocations (and their garbage collection) cost about as much as the
 * rest of a fold of typing rows. A row's view is made only when it is checked
 * and applied alone.
 */
export class LogRows {
  readonly count: number
  readonly ids: Float64Array
  readonly start: Int32Array
  readonly end: Int32Array
  private readonly buffers: Uint8Array[]
  private readonly bufferOf: Int32Array

  private constructor(buffers: Uint8Array[], count: number) {
    this.buffers = buffers
    this.count = count
    this.ids = new Float64Array(count)
    this.start = new Int32Array(count)
    this.end = new Int32Array(count)
    this.bufferOf = new Int32Array(count)
  }

  static of(rows: LogRow[]): LogRows {
    const log = new LogRows(
      rows.map((row) => row.update),
      rows.length,
    )
    rows.forEach((row, i) => {
      log.ids[i] = row.id
      log.end[i] = row.update.byteLength
      log.bufferOf[i] = i
    })
    return log
  }

  /** Packed pages (see unpackLog), in id order. */
  static unpack(pages: Uint8Array[]): LogRows {
    let count = 0
    for (const packed of pages) {
      for (let at = 0; at < packed.byteLength; count++) {
        if (at + 12 > packed.byteLength) throw new Error('packed log truncated')
        at += 12 + uint32(packed, at + 8)
        if (at > packed.byteLength) throw new Error('packed log truncated')
      }
    }
    const log = new LogRows(pages, count)
    let i = 0
    pages.forEach((packed, page) => {
      for (let at = 0; at < packed.byteLength; i++) {
        log.ids[i] = uint32(packed, at) * 2 ** 32 + uint32(packed, at + 4)
        log.start[i] = at + 12
        at += 12 + uint32(packed, at + 8)
        log.end[i] = at
        log.bufferOf[i] = page
      }
    })
    return log.inIdOrder()
  }

  /** The same rows sorted by id, when they are not already (see readDocument: the order of string_agg is not guaranteed). */
  private inIdOrder(): LogRows {
    let sorted = true
    for (let i = 1; i < this.count && sorted; i++) sorted = this.ids[i - 1] < this.ids[i]
    if (sorted) return this
    const order = Array.from(this.ids.keys()).sort((a, b) => this.ids[a] - this.ids[b])
    const log = new LogRows(this.buffers, this.count)
    order.forEach((from, i) => {
      log.ids[i] = this.ids[from]
      log.start[i] = this.start[from]
      log.end[i] = this.end[from]
      log.bufferOf[i] = this.bufferOf[from]
    })
    return log
  }

  /** The buffer row i lies in, between start[i] and end[i]. */
  buffer(i: number): Uint8Array {
    return this.buffers[this.bufferOf[i]]
  }

  update(i: number): Uint8Array {
    return this.buffers[this.bufferOf[i]].subarray(this.start[i], this.end[i])
  }
}

/** The big-endian unsigned 32-bit integer at `at` (a DataView per page cost more than these byte reads). */
function uint32(bytes: Uint8Array, at: number): number {
  return bytes[at] * 0x1000000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3])
}

/**
 * What the doc holds but has not integrated: structs waiting for others they
 * reference, and deletions of structs it does not have yet (ordinary
 * out-of-order delivery). `statePieces` walks the integrated structs only:
 * without these the pieces would lose them, and the content would be missing
 * when what they wait for arrives. Pending structs at clocks the doc has
 * integrated meanwhile are left out (see encodeState). Yjs keeps both in the
 * V2 encoding.
 */
export function pendingUpdates(doc: Y.Doc): Uint8Array[] {
  const waiting: Uint8Array[] = []
  const structs = pendingStructsAhead(doc)
  if (structs) waiting.push(structs)
  if (doc.store.pendingDs) waiting.push(Y.convertUpdateFormatV2ToV1(doc.store.pendingDs))
  return waiting
}

/**
 * The doc's state, pending structs included, as `Y.encodeStateAsUpdate`
 * gives it, except for pending structs at clocks the doc has integrated
 * since they arrived: Yjs skips those when it retries (their ids are taken),
 * but its encoding merges them with the integrated structs of the same ids,
 * and the merge may keep the pending one. Only a client that sends two
 * different structs under one id (never an honest one) gets there, and the
 * state it would leave could not be loaded back as it was applied.
 */
export function encodeState(doc: Y.Doc): Uint8Array {
  const pending = doc.store.pendingStructs
  if (!pending) return Y.encodeStateAsUpdate(doc)
  doc.store.pendingStructs = null
  try {
    const integrated = Y.encodeStateAsUpdate(doc)
    doc.store.pendingStructs = pending
    const ahead = pendingStructsAhead(doc)
    return ahead ? Y.mergeUpdates([integrated, ahead]) : integrated
  } finally {
    doc.store.pendingStructs = pending
  }
}

/** The pending structs from each client's integrated clock on (format V1), or null. */
function pendingStructsAhead(doc: Y.Doc): Uint8Array | null {
  const pending = doc.store.pendingStructs
  if (!pending) return null
  return Y.convertUpdateFormatV2ToV1(Y.diffUpdateV2(pending.update, Y.encodeStateVector(doc)))
}

import { authorsBetween, type DocumentAuthor } from './authorship.ts'
import type { Database } from './database.ts'
import { GroupCommitter } from './group-commit.ts'
import {
  compactDocument,
  compactionDecision,
  DEFAULT_COMPACTION_STEP_ROWS,
  defaultCompactionPolicy,
  type CompactionHooks,
  type CompactionPolicy,
  type CompactionResult,
  type LogStats,
} from './compaction.ts'
import { PIECES_MIN_STATE_BYTES } from './log-fold.ts'
import { LogMerger } from './log-merger.ts'
import { quarantineRow, readDocument, readDocuments, type QuarantinedRow } from './log-reader.ts'

/** Documents a consistent read asks for in one statement. */
const CONSISTENT_READ_CHUNK = 250

export interface LoadedDocument {
  /** Snapshot and log merged into one update, or null for a document never stored. */
  state: Uint8Array | null
  /** For a large document, the same as updates to apply in order, with the event loop free in between (see FoldResult.pieces). */
  pieces?: Uint8Array[]
  stats: LogStats
}

/** What /health shows of a loaded document's storage. */
export interface DocumentLogStats extends LogStats {
  /** Log rows skipped at the last load because they would not integrate (they are in quarantined_updates). */
  quarantined: number
  /** Duration of the last load (read + fold), milliseconds. */
  loadMs: number
}

export interface AppendOptions {
  /** users.id of the admin whose connection sent the update; null or omitted: the server. */
  authorId?: string | null
}

export interface Timing {
  count: number
  totalMs: number
  maxMs: number
}

export type StoreEvent =
  | { event: 'update-quarantined'; document: string; id: number; problem: string; during: 'load' | 'compaction' }
  | { event: 'quarantine-failed'; document: string; id: number; err: unknown }
  | {
      event: 'document-loaded'
      document: string
      updates: number
      bytes: number
      snapshotBytes: number
      readMs: number
      foldMs: number
      /** CPU time of the fold itself (see MergedFold.cpuMs); 0 when nothing was folded. */
      foldCpuMs: number
      ms: number
      where: 'inline' | 'worker' | 'none'
    }
  | { event: 'document-compacted'; document: string; merged: number; quarantined: number; snapshotBytes: number; steps: number; ms: number; where: CompactionResult['where'] }

export interface DocumentStoreOptions {
  compaction?: Partial<CompactionPolicy>
  /** Group-commit batches allowed in flight at once (see GroupCommitter). */
  appendsInFlight?: number
  /** Worker threads for large folds (LogMerger); 0 folds everything on the event loop. Default 1. */
  mergeThreads?: number
  /** Rows one compaction transaction folds at most (a longer log is compacted in several steps). */
  compactionStepRows?: number
  /** Log rows per read while loading (default LOAD_PAGE_ROWS; tests use small pages). */
  loadPageRows?: number
  /** Called when a background compaction fails; the log is intact, it will be retried. */
  onCompactionError?: (name: string, error: unknown) => void
  /** Loads, compactions and quarantined rows, for logs. */
  onEvent?: (event: StoreEvent) => void
  /** Called with the number of appends in each committed group-commit batch (metrics). */
  onCommitBatch?: (size: number) => void
}

/**
 * Log rows per packed page of a load, and the longest log read in one
 * aggregate (see readDocument). Each page is one bytea that pg hex-decodes
 * on the main thread: 200k one-character edits are ~7.4 MB (a 15 MB hex
 * string); pages keep a 1M-row log from arriving as one 75 MB string.
 */
const LOAD_PAGE_ROWS = 200_000

/**
 * PostgreSQL storage of Yjs documents: an append-only update log (group
 * committed) plus a compacted snapshot. `append` resolves only once the
 * update is committed — that is what "saved" means in botsync.
 */
export class DocumentStore {
  readonly db: Database
  readonly committer: GroupCommitter
  readonly merger: LogMerger
  /** Time spent loading and compacting documents since start. */
  readonly timings = { loads: { count: 0, totalMs: 0, maxMs: 0 } as Timing, compactions: { count: 0, totalMs: 0, maxMs: 0 } as Timing }
  /** Rows quarantined by this process (loads and compactions); the table holds every instance's. */
  quarantined = 0
  private readonly policy: CompactionPolicy
  private readonly compactionStepRows: number
  private readonly loadPageRows: number
  private readonly onCompactionError: (name: string, error: unknown) => void
  private readonly emit: (event: StoreEvent) => void
  private readonly logStats = new Map<string, DocumentLogStats>()
  private readonly compactions = new Map<string, Promise<CompactionResult>>()
  private readonly idleTimers = new Map<string, NodeJS.Timeout>()

  constructor(db: Database, options: DocumentStoreOptions = {}) {
    this.db = db
    this.committer = new GroupCommitter(db, { maxInFlight: options.appendsInFlight, onBatch: options.onCommitBatch })
    this.merger = new LogMerger({ maxThreads: options.mergeThreads ?? 1 })
    this.policy = { ...defaultCompactionPolicy, ...options.compaction }
    this.compactionStepRows = options.compactionStepRows ?? DEFAULT_COMPACTION_STEP_ROWS
    this.loadPageRows = Math.max(1, options.loadPageRows ?? LOAD_PAGE_ROWS)
    this.onCompactionError = options.onCompactionError ?? (() => {})
    this.emit = options.onEvent ?? (() => {})
  }

  private onEvent(event: StoreEvent): void {
    if (event.event === 'update-quarantined') this.quarantined += 1
    this.emit(event)
  }

  /**
   * Snapshot + log, read in one statement (packed pages, see readDocument),
   * folded in linear time, in a worker when large. Rows that would not integrate are skipped (copied to quarantined_updates,
   * logged once); the document loads with everything else. A document found
   * with a long log is compacted soon after, in the background.
   */
  async load(name: string): Promise<LoadedDocument> {
    const started = performance.now()
    const { snapshot, pages: logPages } = await readDocument(this.db, name, this.loadPageRows)
    const pages = logPages.map((page) => page.packed)
    const rows = logPages.reduce((sum, page) => sum + page.rows, 0)
    const bytes = logPages.reduce((sum, page) => sum + page.bytes, 0)
    const read = performance.now()
    const stats: DocumentLogStats = { updates: rows, bytes, snapshotBytes: snapshot?.byteLength ?? 0, quarantined: 0, loadMs: 0 }
    let state = snapshot
    let pieces: Uint8Array[] | undefined
    let where: 'inline' | 'worker' | 'none' = 'none'
    let foldCpuMs = 0
    // A snapshot alone is already a state, unless it is large enough to be applied in pieces.
    if (rows > 0 || stats.snapshotBytes >= PIECES_MIN_STATE_BYTES) {
      const folded = await this.merger.merge({ snapshot, pages, pieces: true }, { rows, bytes: bytes + stats.snapshotBytes })
      state = folded.state
      pieces = folded.pieces
      where = folded.where
      foldCpuMs = folded.cpuMs
      stats.quarantined = folded.rejected.length
      for (const { id, problem } of folded.rejected) await this.quarantine(name, id, problem)
    }
    const finished = performance.now()
    stats.loadMs = finished - started
    this.observe(this.timings.loads, stats.loadMs)
    this.logStats.set(name, stats)
    this.onEvent({
      event: 'document-loaded',
      document: name,
      updates: rows,
      bytes,
      snapshotBytes: stats.snapshotBytes,
      readMs: read - started,
      foldMs: finished - read,
      foldCpuMs,
      ms: stats.loadMs,
      where,
    })
    // Catch up on a log that grew long (e.g. while compaction kept failing):
    // once the document has been quiet for idleMs, so not while the live
    // document is still being filled and its first clients synced (an append
    // past the hard limits starts it at once, as always).
    if (compactionDecision(stats, this.policy) !== 'no') this.compactWhenIdle(name)
    // Callers get a copy: the live counters keep moving with appends and compactions.
    return { state, ...(pieces ? { pieces } : {}), stats: { updates: stats.updates, bytes: stats.bytes, snapshotBytes: stats.snapshotBytes } }
  }

  /**
   * Several documents' states as of ONE point in time: every snapshot and log
   * is read inside one REPEATABLE READ transaction (PostgreSQL's snapshot
   * isolation), so an update committed meanwhile is in all of them or in
   * none, and a compaction running meanwhile cannot make a row count twice
   * or not at all. Folded like load() but without its side effects: rows
   * that would not integrate are skipped (load() quarantines them), and
   * nothing is recorded in the log statistics. Null for a document never
   * stored. A publish or a checkpoint reads a space's content this way.
   */
  async readConsistent(names: readonly string[]): Promise<Map<string, Uint8Array | null>> {
    const read = await this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      // One statement per chunk of names, not per document (a whole space is hundreds).
      const documents: Array<Awaited<ReturnType<typeof readDocument>>> = []
      for (let i = 0; i < names.length; i += CONSISTENT_READ_CHUNK) {
        const chunk = names.slice(i, i + CONSISTENT_READ_CHUNK)
        const read = await readDocuments(tx, chunk, this.loadPageRows)
        for (const name of chunk) documents.push(read.get(name)!)
      }
      return documents
    })
    const states = new Map<string, Uint8Array | null>()
    for (const [i, name] of names.entries()) {
      const { snapshot, pages } = read[i]
      const rows = pages.reduce((sum, page) => sum + page.rows, 0)
      if (rows === 0) {
        states.set(name, snapshot)
        continue
      }
      const bytes = pages.reduce((sum, page) => sum + page.bytes, 0) + (snapshot?.byteLength ?? 0)
      const folded = await this.merger.merge({ snapshot, pages: pages.map((page) => page.packed) }, { rows, bytes })
      states.set(name, folded.state)
    }
    return states
  }

  /** Storage figures of every document loaded now (largest log first). */
  loadedLogs(): Array<DocumentLogStats & { document: string }> {
    return [...this.logStats].map(([document, stats]) => ({ document, ...stats })).sort((a, b) => b.updates - a.updates)
  }

  private async quarantine(name: string, id: number, problem: string): Promise<void> {
    try {
      // Only the first load to find it logs it (a reload, another instance: already there).
      if (await quarantineRow(this.db, name, id, problem)) {
        this.onEvent({ event: 'update-quarantined', document: name, id, problem, during: 'load' })
      }
    } catch (err) {
      // The row stays in the log, skipped at every load, until a compaction moves it.
      this.onEvent({ event: 'quarantine-failed', document: name, id, err })
    }
  }

  private observe(timing: Timing, ms: number): void {
    timing.count += 1
    timing.totalMs += ms
    timing.maxMs = Math.max(timing.maxMs, ms)
  }

  async exists(name: string): Promise<boolean> {
    const rows = await this.db.query(`SELECT 1 FROM documents WHERE name = $1 UNION ALL SELECT 1 FROM document_updates WHERE name = $1 LIMIT 1`, [name])
    return rows.length > 0
  }

  /**
   * Durably appends one update; resolves after COMMIT. May schedule a
   * background compaction. `authorId`: the admin (users.id) whose connection
   * sent it; omitted or null for the server's own writes.
   */
  async append(name: string, update: Uint8Array, options: AppendOptions = {}): Promise<void> {
    await this.committer.append(name, update, options.authorId ?? null)
    const stats = this.logStats.get(name)
    if (!stats) return
    stats.updates += 1
    stats.bytes += update.byteLength
    const decision = compactionDecision(stats, this.policy)
    if (decision === 'now') this.compactInBackground(name)
    else if (decision === 'when-idle') this.compactWhenIdle(name)
  }

  /** The document left memory: compact now if it was waiting for a quiet moment, then forget its counters. */
  release(name: string): void {
    if (this.idleTimers.has(name)) this.compactInBackground(name)
    else if (!this.compactions.has(name)) this.logStats.delete(name)
  }

  private compactWhenIdle(name: string): void {
    const timer = this.idleTimers.get(name)
    if (timer) {
      timer.refresh()
      return
    }
    const idle = setTimeout(() => this.compactInBackground(name), this.policy.idleMs)
    idle.unref()
    this.idleTimers.set(name, idle)
  }

  private compactInBackground(name: string): void {
    clearTimeout(this.idleTimers.get(name))
    this.idleTimers.delete(name)
    if (this.compactions.has(name)) return
    this.compact(name).catch((error) => this.onCompactionError(name, error))
  }

  compact(name: string, hooks?: CompactionHooks): Promise<CompactionResult> {
    const running = this.compactions.get(name)
    if (running) return running
    const started = performance.now()
    const compaction = compactDocument(this.db, name, hooks, {
      merger: this.merger,
      maxRowsPerStep: this.compactionStepRows,
      // Each committed step shortens the log at once (visible on /health while a long one catches up).
      onStep: (step) => {
        const stats = this.logStats.get(name)
        if (!stats) return
        stats.updates = Math.max(0, stats.updates - step.merged)
        stats.bytes = Math.max(0, stats.bytes - step.mergedBytes)
        stats.snapshotBytes = step.snapshotBytes
        stats.quarantined = Math.max(0, stats.quarantined - step.quarantined)
      },
      onQuarantined: ({ id, document, problem }: QuarantinedRow) => this.onEvent({ event: 'update-quarantined', document, id, problem, during: 'compaction' }),
    })
      .then((result) => {
        const ms = performance.now() - started
        this.observe(this.timings.compactions, ms)
        if (result.merged > 0) {
          this.onEvent({
            event: 'document-compacted',
            document: name,
            merged: result.merged,
            quarantined: result.quarantined,
            snapshotBytes: result.snapshotBytes,
            steps: result.steps,
            ms,
            where: result.where,
          })
        }
        return result
      })
      .finally(() => this.compactions.delete(name))
    this.compactions.set(name, compaction)
    return compaction
  }

  /**
   * Who wrote `name`'s updates with `sinceMs <= created_at < untilMs`, also
   * after compaction (to the minute, see authorship.ts); earliest first.
   */
  authorsBetween(name: string, sinceMs: number, untilMs: number): Promise<DocumentAuthor[]> {
    return authorsBetween(this.db, name, sinceMs, untilMs)
  }

  /** Waits for pending appends and running compactions (clean shutdown); deferred ones are dropped, the log is intact. */
  async flush(): Promise<void> {
    for (const timer of this.idleTimers.values()) clearTimeout(timer)
    this.idleTimers.clear()
    await this.committer.flush()
    await Promise.allSettled([...this.compactions.values()])
  }

  /** flush(), then stops the merge threads. */
  async close(): Promise<void> {
    await this.flush()
    await this.merger.close()
  }
}

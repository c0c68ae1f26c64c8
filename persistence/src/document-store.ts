import * as Y from 'yjs'
import { toBytes, type Database } from './database.ts'
import { GroupCommitter } from './group-commit.ts'
import {
  compactDocument,
  compactionDecision,
  defaultCompactionPolicy,
  type CompactionHooks,
  type CompactionPolicy,
  type CompactionResult,
  type LogStats,
} from './compaction.ts'

export interface LoadedDocument {
  /** Snapshot and log merged into one update, or null for a document never stored. */
  state: Uint8Array | null
  stats: LogStats
}

export interface DocumentStoreOptions {
  compaction?: Partial<CompactionPolicy>
  /** Group-commit batches allowed in flight at once (see GroupCommitter). */
  appendsInFlight?: number
  /** Called when a background compaction fails; the log is intact, it will be retried. */
  onCompactionError?: (name: string, error: unknown) => void
}

/**
 * PostgreSQL storage of Yjs documents: an append-only update log (group
 * committed) plus a compacted snapshot. `append` resolves only once the
 * update is committed — that is what "saved" means in botsync.
 */
export class DocumentStore {
  readonly db: Database
  readonly committer: GroupCommitter
  private readonly policy: CompactionPolicy
  private readonly onCompactionError: (name: string, error: unknown) => void
  private readonly logStats = new Map<string, LogStats>()
  private readonly compactions = new Map<string, Promise<CompactionResult>>()
  private readonly idleTimers = new Map<string, NodeJS.Timeout>()

  constructor(db: Database, options: DocumentStoreOptions = {}) {
    this.db = db
    this.committer = new GroupCommitter(db, { maxInFlight: options.appendsInFlight })
    this.policy = { ...defaultCompactionPolicy, ...options.compaction }
    this.onCompactionError = options.onCompactionError ?? (() => {})
  }

  /** Snapshot + log tail, read in one statement so a concurrent compaction cannot split them. */
  async load(name: string): Promise<LoadedDocument> {
    const rows = await this.db.query<{ part: number; data: unknown }>(
      `SELECT 0 AS part, snapshot AS data, 0::bigint AS id FROM documents WHERE name = $1 AND snapshot IS NOT NULL
       UNION ALL
       SELECT 1 AS part, update AS data, id FROM document_updates WHERE name = $1
       ORDER BY part, id`,
      [name],
    )
    const snapshot = rows.find((row) => row.part === 0)
    const log = rows.filter((row) => row.part === 1).map((row) => toBytes(row.data))
    const stats: LogStats = {
      updates: log.length,
      bytes: log.reduce((sum, update) => sum + update.byteLength, 0),
      snapshotBytes: snapshot ? toBytes(snapshot.data).byteLength : 0,
    }
    this.logStats.set(name, stats)
    // Callers get a copy: the live counters keep moving with appends and compactions.
    if (rows.length === 0) return { state: null, stats: { ...stats } }
    const parts = rows.map((row) => toBytes(row.data))
    return { state: parts.length === 1 ? parts[0] : Y.mergeUpdates(parts), stats: { ...stats } }
  }

  async exists(name: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM documents WHERE name = $1 UNION ALL SELECT 1 FROM document_updates WHERE name = $1 LIMIT 1`,
      [name],
    )
    return rows.length > 0
  }

  /** Durably appends one update; resolves after COMMIT. May schedule a background compaction. */
  async append(name: string, update: Uint8Array): Promise<void> {
    await this.committer.append(name, update)
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
    const compaction = compactDocument(this.db, name, hooks)
      .then((result) => {
        const stats = this.logStats.get(name)
        if (stats) {
          stats.updates = Math.max(0, stats.updates - result.merged)
          stats.bytes = Math.max(0, stats.bytes - result.mergedBytes)
          stats.snapshotBytes = result.snapshotBytes
        }
        return result
      })
      .finally(() => this.compactions.delete(name))
    this.compactions.set(name, compaction)
    return compaction
  }

  /** Waits for pending appends and running compactions (clean shutdown); deferred ones are dropped, the log is intact. */
  async flush(): Promise<void> {
    for (const timer of this.idleTimers.values()) clearTimeout(timer)
    this.idleTimers.clear()
    await this.committer.flush()
    await Promise.allSettled([...this.compactions.values()])
  }
}

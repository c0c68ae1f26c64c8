import type { Queryable } from './database.ts'

interface PendingAppend {
  name: string
  update: Uint8Array
  /** users.id of the admin who sent it; null: the server. */
  authorId: string | null
  resolve: () => void
  reject: (error: unknown) => void
}

export interface GroupCommitStats {
  batches: number
  appended: number
  largestBatch: number
}

/**
 * Group commit for the update log: appends that arrive while a commit is in
 * flight wait and go out together in the next single INSERT (one transaction,
 * one WAL flush). A lone writer pays one round trip; a hundred writers share
 * one. No timer: the batch is whatever queued up during the previous commit,
 * so latency never waits for company that is not coming.
 */
export class GroupCommitter {
  readonly stats: GroupCommitStats = { batches: 0, appended: 0, largestBatch: 0 }
  private readonly db: Queryable
  private readonly maxBatch: number
  private readonly maxInFlight: number
  private queue: PendingAppend[] = []
  private inFlight = new Set<Promise<void>>()
  private readonly onBatch: ((size: number) => void) | undefined

  /** `onBatch`: called with the size of each committed batch (metrics). */
  constructor(db: Queryable, options: { maxBatch?: number; maxInFlight?: number; onBatch?: (size: number) => void } = {}) {
    this.db = db
    this.onBatch = options.onBatch
    this.maxBatch = options.maxBatch ?? 1000
    // Two commits in flight let PostgreSQL flush one batch's WAL while the
    // next batch's INSERT already runs, instead of waiting a whole round trip.
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2)
  }

  /** Resolves once the update is committed (durable), rejects if the commit failed. */
  append(name: string, update: Uint8Array, authorId: string | null = null): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, update, authorId, resolve, reject })
      this.pump()
    })
  }

  /** Resolves when everything appended so far has been committed or failed. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch)
      const commit = this.commit(batch).finally(() => {
        this.inFlight.delete(commit)
        this.pump()
      })
      this.inFlight.add(commit)
    }
  }

  private async commit(batch: PendingAppend[]): Promise<void> {
    try {
      await this.insert(batch)
      this.stats.batches += 1
      this.stats.appended += batch.length
      this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length)
      this.onBatch?.(batch.length)
      for (const item of batch) item.resolve()
    } catch (error) {
      for (const item of batch) item.reject(error)
    }
  }

  private async insert(batch: PendingAppend[]): Promise<void> {
    // One statement text for every batch size, so PostgreSQL parses and plans
    // it once per connection (a prepared statement) instead of once a commit.
    // Each row carries its own author (a batch mixes every writer's updates).
    await this.db.query(
      'INSERT INTO document_updates (name, update, author_id) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[])',
      [batch.map((item) => item.name), batch.map((item) => item.update), batch.map((item) => item.authorId)],
      { prepare: 'botsync_append_authored_updates' },
    )
  }
}

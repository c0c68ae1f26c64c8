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
 *
 * With nothing in flight an append is sent at once. Otherwise the free
 * slot is filled at the end of the event loop's current I/O phase
 * (setImmediate): messages read from many sockets in one phase go out as
 * one commit instead of the first two each alone (a commit costs the server
 * a write and a read on the database socket, and PostgreSQL a transaction
 * and a WAL flush, whatever its size). An append waits at most for the rest
 * of the phase it was read in, and a lone writer not at all: waiting behind
 * a broadcast's slices (setImmediate too) delayed the fan-out bench's writer.
 */
export class GroupCommitter {
  readonly stats: GroupCommitStats = { batches: 0, appended: 0, largestBatch: 0 }
  private readonly db: Queryable
  private readonly maxBatch: number
  private readonly maxInFlight: number
  private queue: PendingAppend[] = []
  private pumpScheduled = false
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
      // Nothing in flight: a lone writer's commit goes at once.
      if (this.inFlight.size === 0) this.pump()
      else this.schedulePump()
    })
  }

  /** Resolves when everything appended so far has been committed or failed. */
  async flush(): Promise<void> {
    // Also what waits for a slot or for its scheduled pump.
    while (this.inFlight.size > 0 || this.queue.length > 0) {
      this.pump()
      await Promise.allSettled([...this.inFlight])
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.queue.length === 0 || this.inFlight.size >= this.maxInFlight) return
    this.pumpScheduled = true
    setImmediate(this.scheduledPump)
  }

  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false
    this.pump()
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight.size < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch)
      const commit = this.commit(batch).finally(() => {
        this.inFlight.delete(commit)
        this.schedulePump()
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

import * as Y from 'yjs'
import { toBytes, type Database } from './database.ts'

export interface CompactionPolicy {
  /** Compact once the log holds at least this many updates … */
  minUpdates: number
  /** … and at least this many bytes (a small document is not rewritten every
   * few hundred keystrokes) … */
  minBytes: number
  /** … and this share of the snapshot's size (bounds the amortised rewrite
   * cost per edit on large documents). */
  snapshotRatio: number
  /** Past the threshold, wait until the document has had no append for this
   * long: the merge runs on the event loop, so it should not land in the
   * middle of someone's typing. */
  idleMs: number
  /** Compact at once, idle or not, past this many updates or this multiple of
   * the byte threshold (bounds load time and storage under constant editing). */
  maxUpdates: number
  maxBytesFactor: number
}

export const defaultCompactionPolicy: CompactionPolicy = {
  minUpdates: 200,
  minBytes: 64 * 1024,
  snapshotRatio: 0.25,
  idleMs: 1000,
  maxUpdates: 20_000,
  maxBytesFactor: 4,
}

export interface LogStats {
  updates: number
  bytes: number
  snapshotBytes: number
}

export type CompactionDecision = 'no' | 'when-idle' | 'now'

export function compactionDecision(stats: LogStats, policy: CompactionPolicy): CompactionDecision {
  const byteThreshold = Math.max(policy.minBytes, stats.snapshotBytes * policy.snapshotRatio)
  if (stats.updates >= policy.maxUpdates) return 'now'
  if (stats.updates < policy.minUpdates || stats.bytes < byteThreshold) return 'no'
  return stats.bytes >= byteThreshold * policy.maxBytesFactor ? 'now' : 'when-idle'
}

export interface CompactionResult {
  /** Log rows folded into the snapshot, and their bytes. */
  merged: number
  mergedBytes: number
  snapshotBytes: number
}

export interface CompactionHooks {
  /** Test seam: runs after the new snapshot is written, before the log rows are deleted. */
  afterSnapshotWritten?: () => Promise<void>
}

/**
 * Folds a document's log into its snapshot in one transaction under a
 * per-document advisory lock, so instances compacting the same document take
 * turns. It deletes exactly the rows it merged (never "ids up to N": an append
 * with a lower id may commit later), so it is idempotent and a crash at any
 * point leaves either the old snapshot + full log or the new snapshot + tail.
 */
export async function compactDocument(
  db: Database,
  name: string,
  hooks: CompactionHooks = {},
): Promise<CompactionResult> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name])
    const snapshotRows = await tx.query<{ snapshot: unknown }>(
      'SELECT snapshot FROM documents WHERE name = $1 AND snapshot IS NOT NULL',
      [name],
    )
    const log = await tx.query<{ id: number; update: unknown }>(
      'SELECT id, update FROM document_updates WHERE name = $1 ORDER BY id',
      [name],
    )
    const snapshot = snapshotRows[0] ? toBytes(snapshotRows[0].snapshot) : null
    if (log.length === 0) return { merged: 0, mergedBytes: 0, snapshotBytes: snapshot?.byteLength ?? 0 }

    const updates = log.map((row) => toBytes(row.update))
    const merged = mergeIntoState(snapshot ? [snapshot, ...updates] : updates)
    await tx.query(
      `INSERT INTO documents (name, snapshot, compacted_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET snapshot = excluded.snapshot, compacted_at = now()`,
      [name, merged],
    )
    await hooks.afterSnapshotWritten?.()
    await tx.query(
      `DELETE FROM document_updates WHERE name = $1 AND id = ANY(string_to_array($2, ',')::bigint[])`,
      [name, log.map((row) => row.id).join(',')],
    )
    const mergedBytes = updates.reduce((sum, update) => sum + update.byteLength, 0)
    return { merged: log.length, mergedBytes, snapshotBytes: merged.byteLength }
  })
}

/**
 * Applies updates to a fresh garbage-collected doc and re-encodes it: unlike
 * Y.mergeUpdates this drops deleted content, so the snapshot stays
 * proportional to the live document.
 */
export function mergeIntoState(updates: Uint8Array[]): Uint8Array {
  const doc = new Y.Doc({ gc: true })
  try {
    doc.transact(() => {
      for (const update of updates) Y.applyUpdate(doc, update)
    })
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

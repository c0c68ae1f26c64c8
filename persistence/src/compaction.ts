import type { Database } from './database.ts'
import { foldAuthorship } from './authorship.ts'
import { LogMerger } from './log-merger.ts'
import { logPageBounds, packedIds, quarantineRow, readLogRange, readSnapshot, type QuarantinedRow } from './log-reader.ts'

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
   * long, so a document being typed in is not rewritten every few hundred
   * keystrokes (a small merge also runs on the event loop, see LogMerger). */
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
  /** Log rows removed (folded into the snapshot, or quarantined), and their bytes. */
  merged: number
  mergedBytes: number
  snapshotBytes: number
  /** Of the removed rows, those moved to quarantined_updates instead of folded. */
  quarantined: number
  /** Transactions it took (each folds at most `maxRowsPerStep` rows). */
  steps: number
  /** Where the (last) fold ran. */
  where: 'inline' | 'worker' | 'none'
}

export interface CompactionHooks {
  /** Test seam: runs after the new snapshot is written, before the log rows are deleted. */
  afterSnapshotWritten?: () => Promise<void>
}

export interface CompactionOptions {
  /** Where folds run; default: inline. */
  merger?: LogMerger
  /** Rows folded per transaction at most; a longer log takes several steps. */
  maxRowsPerStep?: number
  /** After each committed step (the log is that much shorter now). */
  onStep?: (step: CompactionResult) => void
  /** A row moved to quarantined_updates, once per row. */
  onQuarantined?: (row: QuarantinedRow) => void
}

/** Measured: a 20k-row step folds in ~40 ms (worker) and commits its DELETE in ~60 ms; a normal compaction (policy maxUpdates) is one step. */
export const DEFAULT_COMPACTION_STEP_ROWS = 20_000

const inlineMerger = new LogMerger({ maxThreads: 0 })

/** The last id of each run of rows to fold, numbered by the first step. */
interface CompactionPlan {
  bounds: string[] | null
}

function maxRowsPerStep(options: CompactionOptions): number {
  return Math.max(1, options.maxRowsPerStep ?? DEFAULT_COMPACTION_STEP_ROWS)
}

/**
 * Folds a document's log into its snapshot under a per-document advisory
 * lock, so instances compacting the same document take turns. Each step is
 * one transaction that folds the next run of `maxRowsPerStep` rows (by id
 * range, the runs numbered once by the first step; the last one open-ended)
 * and deletes
 * exactly the rows it merged (never "ids up to N": an append with a lower id
 * may commit later), so it is idempotent and a crash at any point leaves
 * either the old snapshot + full log or the new snapshot + tail. A long log
 * (found at load) is worked off in several such steps, with the event loop
 * free in between, so appends keep flowing while it catches up.
 */
export async function compactDocument(db: Database, name: string, hooks: CompactionHooks = {}, options: CompactionOptions = {}): Promise<CompactionResult> {
  const total: CompactionResult = { merged: 0, mergedBytes: 0, snapshotBytes: 0, quarantined: 0, steps: 0, where: 'none' }
  // The runs are numbered by the first step, under the lock; the last run is
  // open-ended, so rows appended meanwhile are folded too.
  const plan: CompactionPlan = { bounds: null }
  let after = '0'
  for (let run = 0; plan.bounds === null || run < plan.bounds.length; run++) {
    if (run > 0) await new Promise((resolve) => setImmediate(resolve))
    const step = await compactStep(db, name, hooks, options, plan, run, after)
    after = plan.bounds![run] ?? after
    total.merged += step.merged
    total.mergedBytes += step.mergedBytes
    total.quarantined += step.quarantined
    total.snapshotBytes = step.snapshotBytes
    total.steps += 1
    if (step.where !== 'none') total.where = step.where
    options.onStep?.(step)
    if (plan.bounds!.length === 0) break
  }
  return total
}

async function compactStep(
  db: Database,
  name: string,
  hooks: CompactionHooks,
  options: CompactionOptions,
  plan: CompactionPlan,
  run: number,
  after: string,
): Promise<CompactionResult> {
  const merger = options.merger ?? inlineMerger
  const quarantined: QuarantinedRow[] = []
  const result = await db.transaction(async (tx): Promise<CompactionResult> => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [name])
    // Under the lock: a compaction that waited for another sees what that one left.
    plan.bounds ??= await logPageBounds(tx, name, maxRowsPerStep(options))
    const snapshot = await readSnapshot(tx, name)
    const last = run >= plan.bounds.length - 1
    const page = plan.bounds.length === 0 ? null : await readLogRange(tx, name, after, last ? null : plan.bounds[run])
    if (!page) return { merged: 0, mergedBytes: 0, snapshotBytes: snapshot?.byteLength ?? 0, quarantined: 0, steps: 1, where: 'none' }

    const ids = packedIds(page.packed)
    const folded = await merger.merge(
      { snapshot, pages: [page.packed] },
      {
        rows: page.rows,
        bytes: page.bytes + (snapshot?.byteLength ?? 0),
        priority: 'background',
      },
    )
    await tx.query(
      `INSERT INTO documents (name, snapshot, compacted_at) VALUES ($1, $2, now())
       ON CONFLICT (name) DO UPDATE SET snapshot = excluded.snapshot, compacted_at = now()`,
      [name, folded.state],
    )
    // Rows that would not integrate leave the log too, but into quarantine, in this same transaction.
    for (const { id, problem } of folded.rejected) {
      if (await quarantineRow(tx, name, id, problem)) quarantined.push({ id, document: name, problem })
    }
    await hooks.afterSnapshotWritten?.()
    // Deletes exactly the folded rows and keeps who wrote them (document_authorship), in one statement.
    await foldAuthorship(
      tx,
      name,
      ids,
      folded.rejected.map((row) => row.id),
    )
    return { merged: ids.length, mergedBytes: page.bytes, snapshotBytes: folded.state.byteLength, quarantined: folded.rejected.length, steps: 1, where: folded.where }
  })
  // Reported once committed: a rolled-back step quarantined nothing.
  for (const row of quarantined) options.onQuarantined?.(row)
  return result
}

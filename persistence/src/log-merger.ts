import { Piscina } from 'piscina'
import type { FoldResult } from './log-fold.ts'
import merge, { type MergeTask } from './merge-worker.ts'

/**
 * Merges up to this many log rows and this many bytes (snapshot + log) run
 * inline; anything larger goes to a worker thread. Measured on the 2-core
 * development machine with one-character edits (`npx node bench/run.ts`'s
 * longlog suite uses the same shape): a warm worker round trip costs about
 * 0.3–0.6 ms (structured clone both ways, wake-up), which is what inline
 * folding of ~200 rows costs; a 64 KB snapshot applies in about 0.5 ms.
 * Past these sizes the worker is no slower and the main thread is free.
 */
export const INLINE_MERGE_MAX_ROWS = 256
export const INLINE_MERGE_MAX_BYTES = 64 * 1024

export interface MergeOptions {
  /** Worker threads at most; 0 merges everything inline (no threads at all). */
  maxThreads: number
}

export interface MergeOutcome extends FoldResult {
  where: 'inline' | 'worker'
}

/**
 * Where snapshot + log folds run. Small ones inline (a thread hop would cost
 * more than the fold), large ones in a piscina worker pool, so loading or
 * compacting one huge document never stalls every other document on the
 * instance. Threads start on first use and stop after a minute idle.
 */
export class LogMerger {
  private readonly maxThreads: number
  private pool: Piscina<MergeTask, FoldResult> | null = null

  constructor(options: MergeOptions) {
    this.maxThreads = Math.max(0, options.maxThreads)
  }

  async merge(task: MergeTask, size: { rows: number; bytes: number }): Promise<MergeOutcome> {
    if (this.maxThreads === 0 || (size.rows <= INLINE_MERGE_MAX_ROWS && size.bytes <= INLINE_MERGE_MAX_BYTES)) {
      return { ...merge(task), where: 'inline' }
    }
    this.pool ??= new Piscina<MergeTask, FoldResult>({
      filename: new URL('./merge-worker.ts', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.maxThreads,
      idleTimeout: 60_000,
    })
    return { ...(await this.pool.run(task)), where: 'worker' }
  }

  /** Stops the threads (after running merges finish). */
  async close(): Promise<void> {
    const pool = this.pool
    this.pool = null
    await pool?.close()
  }
}

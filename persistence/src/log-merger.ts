import { Piscina } from 'piscina'
import merge, { type MergedFold, type MergeTask } from './merge-worker.ts'

/**
 * Folds of up to this many log rows and bytes (snapshot + log) run inline;
 * larger ones go to a worker thread. Measured on the 2-core development
 * machine (warm, mean of 20; one-character text edits, map-entry snapshots):
 *
 *   rows      10    50    100   200   400   800   1600  5000
 *   inline ms 0.10  0.41  0.41  0.68  1.87  1.62  2.21  6.17
 *   worker ms 0.66  0.42  0.76  1.89  1.95  2.07  3.00  6.77
 *
 *   snapshot  16 KB  64 KB  256 KB  1 MB
 *   inline ms 2.5    4.3    12.2    60.6
 *   worker ms 3.1    6.7    15.6    59.0
 *
 * The worker costs about 0.1–0.6 ms more at every size (structured clone
 * both ways, a thread wake-up; a cold thread's first task ~100 ms), so inline
 * is never slower; what the line buys is a bounded stall: inline folds stay
 * around 2 ms of event-loop time, anything longer leaves the loop free.
 */
export const INLINE_MERGE_MAX_ROWS = 500
export const INLINE_MERGE_MAX_BYTES = 32 * 1024

/**
 * How much lower the compaction threads' scheduling priority is than the
 * event loop's (nice(2) increment). Only compaction's: a load's fold is what
 * a client is waiting for. Measured with loads niced too, on a machine
 * shared with other work (load 5–7, 2 cores): a 100k-row load's fold took
 * 124–164 ms for 54–61 ms of its thread's CPU time.
 */
const COMPACTION_THREAD_NICENESS = 10

/**
 * Who waits for a fold. `foreground`: a load or a consistent read, a client
 * or a publish waits for it; `background`: compaction, nobody does, so the
 * kernel should run the event loop (acks, /health) and loads first.
 */
export type MergePriority = 'foreground' | 'background'

export interface MergeOptions {
  /** Worker threads at most; 0 merges everything inline (no threads at all). */
  maxThreads: number
}

export interface MergeOutcome extends MergedFold {
  where: 'inline' | 'worker'
}

export interface MergeSize {
  rows: number
  bytes: number
  /** Default foreground. */
  priority?: MergePriority
}

/**
 * Where snapshot + log folds run. Small ones inline (a thread hop would cost
 * more than the fold), large ones in piscina worker pools, so loading or
 * compacting one huge document never stalls every other document on the
 * instance: one pool for loads, one niced for compaction (piscina's
 * niceIncrement is per pool), each of up to maxThreads. Threads start on
 * first use and stop after a minute idle.
 */
export class LogMerger {
  private readonly maxThreads: number
  private readonly pools: Record<MergePriority, Piscina<MergeTask, MergedFold> | null> = { foreground: null, background: null }

  constructor(options: MergeOptions) {
    this.maxThreads = Math.max(0, options.maxThreads)
  }

  async merge(task: MergeTask, size: MergeSize): Promise<MergeOutcome> {
    if (this.maxThreads === 0 || (size.rows <= INLINE_MERGE_MAX_ROWS && size.bytes <= INLINE_MERGE_MAX_BYTES)) {
      return { ...merge(task), where: 'inline' }
    }
    const priority = size.priority ?? 'foreground'
    const pool = (this.pools[priority] ??= new Piscina<MergeTask, MergedFold>({
      filename: new URL('./merge-worker.ts', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.maxThreads,
      idleTimeout: 60_000,
      // Per thread, via @napi-rs/nice.
      niceIncrement: priority === 'background' ? COMPACTION_THREAD_NICENESS : 0,
    }))
    return { ...(await pool.run(task, { transferList: ownedBuffers(task) })), where: 'worker' }
  }

  /** Stops the threads (after running merges finish). */
  async close(): Promise<void> {
    const pools = Object.values(this.pools)
    this.pools.foreground = null
    this.pools.background = null
    await Promise.all(pools.map((pool) => pool?.close()))
  }
}

/**
 * The task's buffers that can be moved to the worker instead of copied: a
 * 1M-row log is ~37 MB of pages, a copy of which would be one long stall.
 * Only buffers that own their whole ArrayBuffer: a view into a shared one
 * (Node's small-Buffer pool) would detach its neighbours too. The caller
 * does not touch the task after handing it over.
 */
function ownedBuffers(task: MergeTask): ArrayBuffer[] {
  const owned = new Set<ArrayBuffer>()
  for (const bytes of task.snapshot ? [task.snapshot, ...task.pages] : task.pages) {
    if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) owned.add(bytes.buffer)
  }
  return [...owned]
}

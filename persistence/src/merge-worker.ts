// A merge worker thread (run by LogMerger through piscina): folds a snapshot
// and packed log pages into one state, off the main event loop. LogMerger
// calls the same function inline for small folds. Each row is checked with
// integrationProblem before it is applied (a worker cannot be handed a
// function, so the check is imported here).
import { getPriority } from 'node:os'
import { foldLog, LogRows, type FoldResult } from './log-fold.ts'
import { integrationProblem } from './update-integrity.ts'

export interface MergeTask {
  snapshot: Uint8Array | null
  /** Packed log pages in id order (see unpackLog). */
  pages: Uint8Array[]
  /** Return the result as pieces too, when it is large (loads; compaction needs only the state). */
  pieces?: boolean
}

export interface MergedFold extends FoldResult {
  /** CPU time of this thread for the fold, ms: unlike its duration, hardly changed by other load on the machine. */
  cpuMs: number
  /** The nice value of the thread that folded (on Linux nice is per thread; see LogMerger's priorities). */
  niceness: number
}

export default function merge(task: MergeTask): MergedFold {
  const cpu = process.threadCpuUsage()
  const folded = foldLog(task.snapshot, LogRows.unpack(task.pages), integrationProblem, { pieces: task.pieces })
  const used = process.threadCpuUsage(cpu)
  return { ...folded, cpuMs: (used.user + used.system) / 1000, niceness: getPriority() }
}

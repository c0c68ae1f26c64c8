// A merge worker thread (run by LogMerger through piscina): folds a snapshot
// and packed log pages into one state, off the main event loop.
import { integrationCheck } from './integration-check.ts'
import { foldLog, unpackLog, type FoldResult } from './log-fold.ts'

export interface MergeTask {
  snapshot: Uint8Array | null
  /** Packed log pages in id order (see unpackLog). */
  pages: Uint8Array[]
}

export default function merge(task: MergeTask): FoldResult {
  return foldLog(task.snapshot, task.pages.flatMap(unpackLog), integrationCheck)
}

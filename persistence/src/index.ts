export type { Database, ListenHandlers, Queryable, QueryOptions } from './database.ts'
export { toBytes } from './database.ts'
export { PgDatabase } from './pg-database.ts'
export { PgliteDatabase } from './pglite-database.ts'
export { openDatabase, type OpenDatabaseOptions } from './open-database.ts'
export { migrate, migrations, USER_ACCESS_CHANNEL, SPACE_BOTS_CHANNEL, type Migration } from './migrations.ts'
export { GroupCommitter, type GroupCommitStats } from './group-commit.ts'
export {
  compactDocument,
  compactionDecision,
  defaultCompactionPolicy,
  type CompactionDecision,
  DEFAULT_COMPACTION_STEP_ROWS,
  type CompactionHooks,
  type CompactionOptions,
  type CompactionPolicy,
  type CompactionResult,
  type LogStats,
} from './compaction.ts'
export { DocumentStore, type AppendOptions, type DocumentLogStats, type DocumentStoreOptions, type LoadedDocument, type StoreEvent, type Timing } from './document-store.ts'
export { foldLog, unpackLog, PIECES_MIN_STATE_BYTES, type IntegrationCheck, type FoldResult, type LogRow, type RejectedRow } from './log-fold.ts'
export { LogMerger, INLINE_MERGE_MAX_BYTES, INLINE_MERGE_MAX_ROWS, type MergeOutcome, type MergePriority, type MergeSize } from './log-merger.ts'
export type { QuarantinedRow } from './log-reader.ts'
export { integrationProblem, updateProblem, type DecodedUpdate } from './update-integrity.ts'
export { mayWait, waitingBytes } from './waiting-updates.ts'
export { StoredStateVectors } from './stored-state-vectors.ts'
export { authorsBetween, AUTHORSHIP_BUCKET, type DocumentAuthor } from './authorship.ts'

export type { Database, ListenHandlers, Queryable, QueryOptions } from './database.ts'
export { toBytes } from './database.ts'
export { PgDatabase } from './pg-database.ts'
export { PgliteDatabase } from './pglite-database.ts'
export { openDatabase, type OpenDatabaseOptions } from './open-database.ts'
export { migrate, migrations, USER_ACCESS_CHANNEL, type Migration } from './migrations.ts'
export { GroupCommitter, type GroupCommitStats } from './group-commit.ts'
export {
  compactDocument,
  compactionDecision,
  defaultCompactionPolicy,
  mergeIntoState,
  type CompactionDecision,
  type CompactionHooks,
  type CompactionPolicy,
  type CompactionResult,
  type LogStats,
} from './compaction.ts'
export { DocumentStore, type DocumentStoreOptions, type LoadedDocument } from './document-store.ts'
export { integrationProblem, updateProblem } from './update-integrity.ts'

import { join } from 'node:path'
import type { Database } from './database.ts'
import { migrate } from './migrations.ts'
import { PgDatabase } from './pg-database.ts'
import { PgliteDatabase } from './pglite-database.ts'

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; without one, embedded PGlite under `dataDir` is used. */
  databaseUrl?: string
  dataDir?: string
  /** Pool size for a real server. */
  poolSize?: number
}

/** Opens the configured database and applies pending migrations. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const db = options.databaseUrl
    ? new PgDatabase(options.databaseUrl, { max: options.poolSize })
    : await PgliteDatabase.open(options.dataDir ? join(options.dataDir, 'pglite') : undefined)
  try {
    await migrate(db)
  } catch (error) {
    await db.close().catch(() => {})
    throw error
  }
  return db
}

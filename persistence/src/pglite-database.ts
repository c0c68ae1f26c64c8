import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import type { Database, ListenHandlers, Queryable } from './database.ts'

/**
 * Embedded PostgreSQL (WASM) under DATA_DIR: the same SQL as the server
 * build, so a newcomer runs botsync with nothing installed.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const
  private readonly db: PGlite

  private constructor(db: PGlite) {
    this.db = db
  }

  static async open(dataDir: string | undefined): Promise<PgliteDatabase> {
    if (dataDir) mkdirSync(dataDir, { recursive: true })
    const db = await PGlite.create(dataDir)
    return new PgliteDatabase(db)
  }

  async query<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
    const result = await this.db.query<Row>(sql, params)
    return result.rows
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql)
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) =>
      fn({
        query: async <Row>(sql: string, params: unknown[] = []) => (await tx.query<Row>(sql, params)).rows,
        exec: async (sql: string) => {
          await tx.exec(sql)
        },
      }),
    )
  }

  /** In-process: PGlite delivers NOTIFY to its own listeners, and there is no link to lose. */
  async listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>> {
    const stop = await this.db.listen(channel, handlers.onNotify)
    return () => stop()
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}

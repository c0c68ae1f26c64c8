import pg from 'pg'
import type { SqlClient } from './pg-session-store.ts'

/** A SqlClient on its own pg pool, for a bot that runs without the server in its process. */
export class PgPoolClient implements SqlClient {
  private readonly pool: pg.Pool

  constructor(connectionString: string) {
    this.pool = new pg.Pool({ connectionString, max: 4 })
    // An idle connection losing its server must not crash the bot; the next
    // query reports the failure instead.
    this.pool.on('error', () => {})
  }

  async query<Row = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[]
  }

  close(): Promise<void> {
    return this.pool.end()
  }
}

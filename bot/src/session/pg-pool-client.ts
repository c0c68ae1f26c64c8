import pg from 'pg'
import type { SqlClient } from './pg-session-store.ts'

/** A SqlClient on its own pg pool, for a bot that runs without the server in its process. */
export class PgPoolClient implements SqlClient {
  private readonly pool: pg.Pool

  constructor(connectionString: string, options: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString, max: options.max ?? 8 })
    // An idle connection losing its server must not crash the bot; the next
    // query reports the failure instead.
    this.pool.on('error', () => {})
  }

  async query<Row = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[]
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    let broken: Error | undefined
    const onError = (error: Error) => {
      broken = error
    }
    client.on('error', onError)
    const tx: SqlClient = { query: async <Row>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as Row[] }
    try {
      await client.query('BEGIN')
      const result = await fn(tx)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken ??= rollbackError
      })
      throw error
    } finally {
      client.off('error', onError)
      client.release(broken)
    }
  }

  close(): Promise<void> {
    return this.pool.end()
  }
}

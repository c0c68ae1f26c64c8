import pg from 'pg'
import type { Database, ListenHandlers, Queryable, QueryOptions } from './database.ts'

// 64-bit integers (bigserial ids, counts) arrive as JS numbers; document logs
// never approach 2^53 rows.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

const LISTEN_RETRY_MS = 1_000

export class PgDatabase implements Database {
  readonly kind = 'postgres' as const
  readonly pool: pg.Pool
  private readonly connectionString: string

  constructor(connectionString: string, options: { max?: number } = {}) {
    this.connectionString = connectionString
    this.pool = new pg.Pool({ connectionString, max: options.max ?? 10 })
    // An idle client losing its server must not crash the process; the next
    // query reports the failure to its caller instead.
    this.pool.on('error', () => {})
  }

  async query<Row>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Row[]> {
    const values = params.map(toPgParam)
    const result = options.prepare ? await this.pool.query({ name: options.prepare, text: sql, values }) : await this.pool.query(sql, values)
    return result.rows as Row[]
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql)
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    // A connection dropped mid-transaction surfaces through the failing query;
    // without a listener the client's 'error' event would crash the process.
    let broken: Error | undefined
    const onError = (error: Error) => {
      broken = error
    }
    client.on('error', onError)
    const tx: Queryable = {
      query: async <Row>(sql: string, params: unknown[] = []) => (await client.query(sql, params.map(toPgParam))).rows as Row[],
      exec: async (sql: string) => {
        await client.query(sql)
      },
    }
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
      // A broken client is destroyed instead of returning to the pool.
      client.release(broken)
    }
  }

  /**
   * A dedicated client outside the pool (a LISTEN belongs to its session).
   * If that link drops it is re-established every LISTEN_RETRY_MS, and
   * `onReconnect` tells the caller that it may have missed notifications.
   */
  async listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>> {
    let client: pg.Client | null = null
    let retry: NodeJS.Timeout | null = null
    let stopped = false
    const reconnectLater = (): void => {
      client = null
      if (stopped || retry) return
      retry = setTimeout(() => {
        retry = null
        connect().then(() => handlers.onReconnect?.(), reconnectLater)
      }, LISTEN_RETRY_MS)
      retry.unref()
    }
    const connect = async (): Promise<void> => {
      // Named so operators (and tests) can tell this session in pg_stat_activity.
      const link = new pg.Client({ connectionString: this.connectionString, application_name: `botsync listen ${channel}`.slice(0, 63) })
      link.on('error', () => {})
      link.on('end', () => {
        if (client === link) reconnectLater()
      })
      link.on('notification', (message) => {
        if (message.channel === channel && message.payload !== undefined) handlers.onNotify(message.payload)
      })
      try {
        await link.connect()
        await link.query(`LISTEN ${link.escapeIdentifier(channel)}`)
      } catch (error) {
        await link.end().catch(() => {})
        throw error
      }
      if (stopped) await link.end().catch(() => {})
      else client = link
    }
    await connect()
    return async () => {
      stopped = true
      if (retry) clearTimeout(retry)
      const link = client
      client = null
      await link?.end().catch(() => {})
    }
  }

  async close(): Promise<void> {
    await this.pool.end()
  }
}

// pg serialises Buffer as bytea but a bare Uint8Array as an array literal
// (also inside arrays, e.g. for unnest($1::bytea[])).
function toPgParam(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
  if (Array.isArray(value)) return value.map(toPgParam)
  return value
}

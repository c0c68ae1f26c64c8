import { SESSION_DELETE as DELETE, SESSION_UPSERT as UPSERT, activeUnitOfWork } from '../inbox/unit-of-work.ts'

/** The SQL calls the bot needs; the server's Database and a wrapped pg.Pool (PgPoolClient) both provide them. */
export interface SqlClient {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>
  /** BEGIN … COMMIT on one connection, rolled back if `fn` throws; the update inbox needs it. */
  transaction?<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS bot_sessions (
  space text NOT NULL,
  key text NOT NULL,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (space, key)
)`

/**
 * telegraf's SessionStore over PostgreSQL, so every user's place in a
 * scenario survives a bot restart. Hand-written rather than
 * @telegraf/session: its 1.x line is outdated and 2.x is a beta that pulls in
 * kysely, while this needs three statements. It runs on the server's
 * Database (pg or embedded PGlite) or any `{query(sql, params)}` client.
 * Rows are per space, so several bots can share one database.
 *
 * Writes go straight to the database, or, while an update from the inbox
 * is being handled (an active UnitOfWork), into that update's transaction,
 * which also marks it handled: a session change and its update's "handled"
 * commit together. Reads of recently used sessions come from memory, which
 * keeps a database round trip out of most answers. That is sound while one
 * process handles a chat's updates: the polling leader (forget() when it
 * becomes leader); webhook instances, which share chats, run with
 * cacheSize 0.
 */
export class PgSessionStore<T> {
  private readonly db: SqlClient
  private readonly space: string
  private readonly cacheSize: number
  /** key → JSON of the stored value (or null: known to have none); Map order = least recently used first. */
  private readonly recent = new Map<string, string | null>()
  private ready: Promise<void> | undefined

  constructor(db: SqlClient, space: string, options: { cacheSize?: number } = {}) {
    this.db = db
    this.space = space
    this.cacheSize = options.cacheSize ?? 10_000
  }

  /** Creates the table if needed; called by the first get/set, or up front to fail fast. */
  init(): Promise<void> {
    this.ready ??= this.createTable().catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  async get(key: string): Promise<T | undefined> {
    const cached = this.recent.get(key)
    if (cached !== undefined) {
      this.remember(key, cached)
      // A fresh copy: the caller may change what it gets.
      return cached === null ? undefined : (JSON.parse(cached) as T)
    }
    await this.init()
    const rows = await this.db.query<{ value: unknown }>('SELECT value FROM bot_sessions WHERE space = $1 AND key = $2', [this.space, key])
    if (rows.length === 0) {
      this.remember(key, null)
      return undefined
    }
    const value = rows[0].value
    // pg parses jsonb; a driver that hands back text is tolerated.
    const json = typeof value === 'string' ? value : JSON.stringify(value)
    this.remember(key, json)
    return JSON.parse(json) as T
  }

  async set(key: string, value: T): Promise<void> {
    await this.init()
    const json = JSON.stringify(value)
    // Forgotten first: if the write fails, the next read goes to the database.
    this.recent.delete(key)
    const unit = activeUnitOfWork()
    if (unit) {
      unit.writeSession({ kind: 'upsert', space: this.space, key, json })
      unit.afterCommit(() => this.remember(key, json))
      return
    }
    await this.db.query(UPSERT, [this.space, key, json])
    this.remember(key, json)
  }

  /** Drops every cached session (another process may have changed them). */
  forget(): void {
    this.recent.clear()
  }

  async delete(key: string): Promise<void> {
    await this.init()
    this.recent.delete(key)
    const unit = activeUnitOfWork()
    if (unit) {
      unit.writeSession({ kind: 'delete', space: this.space, key })
      unit.afterCommit(() => this.remember(key, null))
      return
    }
    await this.db.query(DELETE, [this.space, key])
    this.remember(key, null)
  }

  private remember(key: string, json: string | null): void {
    this.recent.delete(key)
    this.recent.set(key, json)
    while (this.recent.size > this.cacheSize) this.recent.delete(this.recent.keys().next().value!)
  }

  private async createTable(): Promise<void> {
    try {
      await this.db.query(CREATE_TABLE)
    } catch (error) {
      // Two processes running CREATE TABLE IF NOT EXISTS at the same moment:
      // the loser gets a unique violation on the catalog (23505),
      // duplicate_table (42P07) or, for the table's row type,
      // duplicate_object (42710). The table exists either way.
      const code = (error as { code?: unknown }).code
      if (code !== '23505' && code !== '42P07' && code !== '42710') throw error
    }
  }
}

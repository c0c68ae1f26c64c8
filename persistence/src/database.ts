/**
 * The one SQL surface the rest of botsync sees. Two implementations run the
 * same SQL: a real PostgreSQL server (`pg`) and the embedded PGlite used when
 * no DATABASE_URL is configured.
 */
export interface QueryOptions {
  /** Name for a server-side prepared statement (parsed once per connection); hot paths only. */
  prepare?: string
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Row[]>
  /** Runs several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

export interface ListenHandlers {
  /** One NOTIFY payload on the channel. */
  onNotify: (payload: string) => void
  /** The listening link was lost and is back: notifications in between may be missing. */
  onReconnect?: () => void
}

export interface Database extends Queryable {
  /**
   * LISTENs on `channel` on a link of its own (NOTIFY reaches every
   * instance on the same PostgreSQL); resolves to a function that stops.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>>
  /** Runs `fn` inside BEGIN … COMMIT on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
  /** `postgres` or `pglite`, for health output and logs. */
  readonly kind: 'postgres' | 'pglite'
}

/** bytea comes back as Buffer from pg and as Uint8Array from PGlite. */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  throw new TypeError(`expected bytea, got ${typeof value}`)
}

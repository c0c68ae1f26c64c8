import type { MediaKind } from '@botsync/shared-docs'
import type { SqlClient } from '../session/pg-session-store.ts'

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS bot_media_files (
  bot_id bigint NOT NULL,
  media_id text NOT NULL,
  kind text NOT NULL,
  file_id text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (bot_id, media_id, kind)
)`

const UPSERT = `INSERT INTO bot_media_files (bot_id, media_id, kind, file_id) VALUES ($1, $2, $3, $4)
  ON CONFLICT (bot_id, media_id, kind) DO UPDATE SET file_id = EXCLUDED.file_id, updated_at = now()`

/** Where Telegram's file_ids are remembered, per bot, media and kind. */
export interface FileIdStore {
  get(botId: number, mediaId: string, kind: MediaKind): Promise<string | null>
  remember(botId: number, mediaId: string, kind: MediaKind, fileId: string): Promise<void>
  forget(botId: number, mediaId: string, kind: MediaKind, fileId: string): Promise<void>
}

/**
 * Telegram's file_id for each media file a bot has uploaded, so the bytes go
 * to Telegram once and the file_id afterwards. Per bot (a file_id works
 * only for the bot that got it) and per kind (a photo's file_id cannot be
 * sent as a document). In PostgreSQL, so restarts and other instances reuse
 * it, and in memory, so most sends need no query.
 */
export class PgFileIdStore implements FileIdStore {
  private readonly db: SqlClient
  private readonly cache = new Map<string, string | null>()
  private ready: Promise<void> | undefined

  constructor(db: SqlClient) {
    this.db = db
  }

  /** Creates the table if needed; called by the first use, or up front to fail fast. */
  init(): Promise<void> {
    this.ready ??= this.db.query(CREATE_TABLE).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined
        throw error
      },
    )
    return this.ready
  }

  async get(botId: number, mediaId: string, kind: MediaKind): Promise<string | null> {
    const key = keyOf(botId, mediaId, kind)
    const cached = this.cache.get(key)
    if (cached !== undefined) return cached
    await this.init()
    const rows = await this.db.query<{ file_id: string }>('SELECT file_id FROM bot_media_files WHERE bot_id = $1 AND media_id = $2 AND kind = $3', [botId, mediaId, kind])
    const fileId = rows[0]?.file_id ?? null
    // Only a known file_id is cached: one another instance remembers meanwhile is found next time.
    if (fileId !== null) this.cache.set(key, fileId)
    return fileId
  }

  async remember(botId: number, mediaId: string, kind: MediaKind, fileId: string): Promise<void> {
    await this.init()
    await this.db.query(UPSERT, [botId, mediaId, kind, fileId])
    this.cache.set(keyOf(botId, mediaId, kind), fileId)
  }

  /** Drops a file_id Telegram no longer takes; only that one, not a newer one another instance stored. */
  async forget(botId: number, mediaId: string, kind: MediaKind, fileId: string): Promise<void> {
    const key = keyOf(botId, mediaId, kind)
    if (this.cache.get(key) === fileId) this.cache.delete(key)
    await this.init()
    await this.db.query('DELETE FROM bot_media_files WHERE bot_id = $1 AND media_id = $2 AND kind = $3 AND file_id = $4', [botId, mediaId, kind, fileId])
  }
}

function keyOf(botId: number, mediaId: string, kind: MediaKind): string {
  return `${botId}:${kind}:${mediaId}`
}

import { randomBytes } from 'node:crypto'
import type { Update } from 'telegraf/types'
import type { SqlClient } from '../session/pg-session-store.ts'
import type { UnitOfWork } from './unit-of-work.ts'

const CREATE = [
  `CREATE TABLE IF NOT EXISTS bot_updates (
  bot_id bigint NOT NULL,
  space text NOT NULL,
  update_id bigint NOT NULL,
  chat_key text NOT NULL,
  body jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  claimed_by text,
  claimed_until timestamptz,
  handled_at timestamptz,
  PRIMARY KEY (bot_id, space, update_id)
)`,
  // The claim reads only unhandled rows, oldest first, and each one's chat:
  // partial indexes, so handled history (kept a day) costs it nothing.
  `CREATE INDEX IF NOT EXISTS bot_updates_pending ON bot_updates (bot_id, space, update_id) WHERE handled_at IS NULL`,
  `CREATE INDEX IF NOT EXISTS bot_updates_pending_chat ON bot_updates (bot_id, space, chat_key, update_id) WHERE handled_at IS NULL`,
  `CREATE TABLE IF NOT EXISTS bot_webhook_secrets (
  bot_id bigint PRIMARY KEY,
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
]

/**
 * Claims each chat's oldest unhandled update whose claim (if any) has run
 * out, and no later one: a chat's updates are handled one after another even
 * when several instances claim. SKIP LOCKED lets instances claim at the same
 * moment without waiting for (or taking) each other's rows; a row another
 * instance claimed and committed is re-checked and skipped (claimed_until).
 * MATERIALIZED: as a plain subquery the planner may re-run the locking
 * LIMIT once per row it joins (measured: a second per claim at 1,300 rows).
 */
const CLAIM = `WITH c AS MATERIALIZED (
  SELECT h.update_id FROM bot_updates h
  WHERE h.bot_id = $1 AND h.space = $2 AND h.handled_at IS NULL
    AND (h.claimed_until IS NULL OR h.claimed_until < now())
    AND NOT EXISTS (
      SELECT 1 FROM bot_updates e
      WHERE e.bot_id = h.bot_id AND e.space = h.space AND e.chat_key = h.chat_key AND e.handled_at IS NULL AND e.update_id < h.update_id
    )
  ORDER BY h.update_id
  LIMIT $5
  FOR UPDATE SKIP LOCKED
)
UPDATE bot_updates u SET claimed_by = $3, claimed_until = now() + make_interval(secs => $4)
FROM c
WHERE u.bot_id = $1 AND u.space = $2 AND u.update_id = c.update_id
RETURNING u.update_id, u.chat_key, u.body`

/** Marks a claimed update handled ($1 bot, $2 space, $3 update_id, $4 owner): only while this instance's claim holds. */
const MARK = `UPDATE bot_updates SET handled_at = now(), claimed_until = NULL
  WHERE bot_id = $1 AND space = $2 AND update_id = $3 AND claimed_by = $4 AND handled_at IS NULL RETURNING 1`

export interface ClaimedUpdate {
  updateId: number
  chatKey: string
  update: Update
}

export interface UpdateInboxOptions {
  db: SqlClient
  /** The bot's numeric id (its token's prefix, getMe's id). */
  botId: number
  /** Updates are scoped per space too, so several deployments (and tests) can share one database. */
  space: string
  /** Who claims: this instance's name, unique per process. */
  owner: string
  /** How long a claim lasts before another instance may take the update over. */
  leaseSeconds: number
}

/**
 * The durable inbox: table `bot_updates`, one row per Telegram update,
 * keyed by (bot, space, update_id). An update is recorded (committed) before
 * Telegram is told it arrived (the next getUpdates offset, or the webhook's
 * 200); handlers claim it, and the handled mark commits in the same
 * transaction as the session change the update caused (UnitOfWork).
 *
 * The tables are created here, like bot_sessions, not by the server's
 * migrations: the stand-alone bot runs on a database the server may never
 * have migrated with this code, and the bot is the only thing that reads
 * them.
 */
export class UpdateInbox {
  private readonly options: UpdateInboxOptions
  private readonly db: SqlClient
  private ready: Promise<void> | undefined

  constructor(options: UpdateInboxOptions) {
    if (!options.db.transaction) throw new Error('the update inbox needs a database client with transaction()')
    this.options = options
    this.db = options.db
  }

  get owner(): string {
    return this.options.owner
  }

  init(): Promise<void> {
    this.ready ??= (async () => {
      for (const statement of CREATE) await createIfMissing(this.db, statement)
    })().catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  /**
   * Records updates and, in the same statement (one round trip, one WAL
   * flush), claims for this instance each chat's first one among them unless
   * that chat has older updates waiting: usually all of them, each in its
   * chat's turn. The rest (a chat's later updates, re-deliveries of updates
   * recorded before) are claimed by claim() when their turn comes.
   */
  async recordAndClaim(updates: Update[]): Promise<ClaimedUpdate[]> {
    if (updates.length === 0) return []
    await this.init()
    const { botId, space, owner, leaseSeconds } = this.options
    // Plain VALUES rather than unnest(arrays): the same SQL runs on PGlite.
    const params: unknown[] = [botId, space, owner, leaseSeconds]
    const values = updates.map((update) => {
      params.push(update.update_id, chatKeyOf(update), JSON.stringify(update))
      const at = params.length
      return `($${at - 2}::bigint, $${at - 1}::text, $${at}::jsonb)`
    })
    const rows = await this.db.query<ClaimRow>(
      `WITH v (update_id, chat_key, body) AS (VALUES ${values.join(', ')}),
       f AS (
         SELECT v.*, v.update_id = min(v.update_id) OVER (PARTITION BY v.chat_key)
           AND NOT EXISTS (
             SELECT 1 FROM bot_updates e
             WHERE e.bot_id = $1 AND e.space = $2 AND e.chat_key = v.chat_key AND e.handled_at IS NULL AND e.update_id < v.update_id
           ) AS first
         FROM v
       ),
       ins AS (
         INSERT INTO bot_updates (bot_id, space, update_id, chat_key, body, claimed_by, claimed_until)
         SELECT $1, $2, f.update_id, f.chat_key, f.body, CASE WHEN f.first THEN $3 END, CASE WHEN f.first THEN now() + make_interval(secs => $4) END FROM f
         ON CONFLICT DO NOTHING
         RETURNING update_id, chat_key, body, claimed_by
       )
       SELECT update_id, chat_key, body FROM ins WHERE claimed_by = $3`,
      params,
    )
    return claimedFrom(rows)
  }

  /** Claims up to `limit` updates this instance may handle now (see CLAIM). */
  async claim(limit: number): Promise<ClaimedUpdate[]> {
    if (limit <= 0) return []
    await this.init()
    const { botId, space, owner, leaseSeconds } = this.options
    const rows = await this.db.query<ClaimRow>(CLAIM, [botId, space, owner, leaseSeconds, limit])
    return claimedFrom(rows)
  }

  /**
   * Commits what handling the update changed (`unit`) and its handled mark,
   * in one transaction. Returns false (and commits nothing) if this
   * instance's claim was taken over meanwhile, or the update was handled
   * already.
   */
  async complete(updateId: number, unit: UnitOfWork): Promise<boolean> {
    const { botId, space, owner } = this.options
    const mark = [botId, space, updateId, owner]
    let done: boolean
    if (unit.writes.length === 0 && unit.sessionWrites.length <= 1) {
      // The usual case (at most one session change): one statement, so one
      // round trip; its CTEs commit together or not at all.
      const write = unit.sessionWrites[0]
      const session = !write
        ? ''
        : write.kind === 'upsert'
          ? `, s AS (INSERT INTO bot_sessions (space, key, value, updated_at) SELECT $5, $6, $7::jsonb, now() FROM marked
               ON CONFLICT (space, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() RETURNING 1)`
          : ', s AS (DELETE FROM bot_sessions WHERE space = $5 AND key = $6 AND EXISTS (SELECT 1 FROM marked) RETURNING 1)'
      const params = !write ? mark : write.kind === 'upsert' ? [...mark, write.space, write.key, write.json] : [...mark, write.space, write.key]
      const [row] = await this.db.query<{ n: number }>(`WITH marked AS (${MARK})${session} SELECT count(*)::int AS n FROM marked`, params)
      done = row.n > 0
    } else {
      done = await this.db.transaction!(async (tx) => {
        if ((await tx.query(MARK, mark)).length === 0) return false
        await unit.apply(tx)
        return true
      })
    }
    if (done) unit.commitDone()
    return done
  }

  /**
   * Hands back claims that belong to no running handler: the polling leader
   * calls it when it takes over, since in polling mode only the leader
   * handles and the previous one is gone.
   */
  async releaseClaims(): Promise<number> {
    await this.init()
    const rows = await this.db.query(
      `UPDATE bot_updates SET claimed_by = NULL, claimed_until = NULL
       WHERE bot_id = $1 AND space = $2 AND handled_at IS NULL AND claimed_by IS NOT NULL RETURNING 1`,
      [this.options.botId, this.options.space],
    )
    return rows.length
  }

  /** Deletes handled updates older than `hours` (Telegram does not resend those). */
  async prune(hours: number): Promise<void> {
    await this.db.query(`DELETE FROM bot_updates WHERE bot_id = $1 AND space = $2 AND handled_at < now() - make_interval(hours => $3)`, [
      this.options.botId,
      this.options.space,
      hours,
    ])
  }

  /** The webhook's secret_token: generated once per bot into the database, so every instance uses the same one. */
  async sharedWebhookSecret(): Promise<string> {
    await this.init()
    const candidate = randomBytes(32).toString('base64url')
    await this.db.query('INSERT INTO bot_webhook_secrets (bot_id, secret) VALUES ($1, $2) ON CONFLICT (bot_id) DO NOTHING', [this.options.botId, candidate])
    const [row] = await this.db.query<{ secret: string }>('SELECT secret FROM bot_webhook_secrets WHERE bot_id = $1', [this.options.botId])
    return row.secret
  }
}

type ClaimRow = { update_id: number | string; chat_key: string; body: unknown }

function claimedFrom(rows: ClaimRow[]): ClaimedUpdate[] {
  return rows
    .map((row) => ({
      updateId: Number(row.update_id),
      chatKey: row.chat_key,
      update: (typeof row.body === 'string' ? JSON.parse(row.body) : row.body) as Update,
    }))
    .sort((a, b) => a.updateId - b.updateId)
}

async function createIfMissing(db: SqlClient, statement: string): Promise<void> {
  try {
    await db.query(statement)
  } catch (error) {
    // Two processes creating at the same moment: the loser gets a unique
    // violation on the catalog (23505), duplicate_table (42P07) or
    // duplicate_object (42710). The table exists either way.
    const code = (error as { code?: unknown }).code
    if (code !== '23505' && code !== '42P07' && code !== '42710') throw error
  }
}

/** Updates of one chat share a queue; anything without a chat shares one too. */
export function chatKeyOf(update: Update): string {
  for (const value of Object.values(update)) {
    if (typeof value !== 'object' || value === null) continue
    const body = value as { chat?: { id?: number }; message?: { chat?: { id?: number } }; from?: { id?: number } }
    const id = body.chat?.id ?? body.message?.chat?.id ?? body.from?.id
    if (id !== undefined) return String(id)
  }
  return 'none'
}

import type { Queryable } from '@botsync/persistence'
import type { SecretBox } from '../auth/secret-box.ts'
import { BOT_TOKEN_PATTERN, type BotIdentity } from './telegram-get-me.ts'

/** A space's stored bot as anyone may see it: never the token. */
export interface SpaceBot extends BotIdentity {
  space: string
  updatedAt: number
}

/** The stored bot with its token, for the supervisor (which runs it) and Mini App checks only. */
export interface SpaceBotCredentials extends SpaceBot {
  token: string
}

/** The token given is not shaped like one from @BotFather (400 `invalid-token`). */
export class InvalidBotToken extends Error {}

/** The bot already serves another space (409 `bot-in-use`): one bot, one space. */
export class BotInUse extends Error {}

/**
 * The `space_bots` table: one Telegram bot per space, its token sealed with
 * the SecretBox (the space as associated data, so a row's ciphertext copied
 * to another space does not open). `set` is an upsert; every change NOTIFYs
 * `botsync_space_bots` (trigger, migration 7) and every instance's
 * BotSupervisor restarts or stops that space's bot.
 */
export class SpaceBots {
  private readonly db: Queryable
  private readonly box: SecretBox
  private readonly verify: (token: string) => Promise<BotIdentity>
  private readonly bootstrap: { botId: number; space: string } | undefined

  /**
   * `verify`: asks Telegram who a token belongs to (telegramGetMe); throws TelegramRefused / TelegramUnreachable.
   * `bootstrap`: the bot of TELEGRAM_BOT_TOKEN and its space (BOT_SPACE), which no other space may take.
   */
  constructor(options: { db: Queryable; box: SecretBox; verify: (token: string) => Promise<BotIdentity>; bootstrap?: { botId: number; space: string } }) {
    this.db = options.db
    this.box = options.box
    this.verify = options.verify
    this.bootstrap = options.bootstrap
  }

  /** Checks the token with Telegram, then stores it sealed; resolves to the bot it names. Nothing is stored if Telegram refuses. */
  async set(space: string, token: string): Promise<SpaceBot> {
    const trimmed = token.trim()
    if (!BOT_TOKEN_PATTERN.test(trimmed)) throw new InvalidBotToken('a bot token looks like 123456789:AA… (from @BotFather)')
    const identity = await this.verify(trimmed)
    if (this.bootstrap && identity.botId === this.bootstrap.botId && space !== this.bootstrap.space) throw new BotInUse('this bot already serves another space')
    const [row] = await this.db
      .query<Row>(
        `INSERT INTO space_bots (space, token_ciphertext, bot_id, username) VALUES ($1, $2, $3, $4)
       ON CONFLICT (space) DO UPDATE SET token_ciphertext = EXCLUDED.token_ciphertext, bot_id = EXCLUDED.bot_id,
         username = EXCLUDED.username, updated_at = now()
       RETURNING space, bot_id::text AS bot_id, username, token_ciphertext, updated_at`,
        [space, this.box.seal(trimmed, space), identity.botId, identity.username],
      )
      .catch((error: unknown) => {
        // The unique index on bot_id: the bot is stored for another space.
        if ((error as { code?: unknown }).code === '23505') throw new BotInUse('this bot already serves another space')
        throw error
      })
    return publicOf(row)
  }

  async get(space: string): Promise<SpaceBot | null> {
    const [row] = await this.db.query<Row>(`SELECT ${COLUMNS} FROM space_bots WHERE space = $1`, [space])
    return row ? publicOf(row) : null
  }

  async credentials(space: string): Promise<SpaceBotCredentials | null> {
    const [row] = await this.db.query<Row>(`SELECT ${COLUMNS} FROM space_bots WHERE space = $1`, [space])
    return row ? this.open(row) : null
  }

  /** True when there was a bot to remove. */
  async remove(space: string): Promise<boolean> {
    const rows = await this.db.query<{ space: string }>('DELETE FROM space_bots WHERE space = $1 RETURNING space', [space])
    return rows.length > 0
  }

  async list(): Promise<SpaceBot[]> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM space_bots ORDER BY space`)
    return rows.map(publicOf)
  }

  /** Every stored bot with its token; a row that does not open (another SECRETS_KEY) is reported by `onUnreadable` and left out. */
  async listCredentials(onUnreadable: (space: string, error: Error) => void): Promise<SpaceBotCredentials[]> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM space_bots ORDER BY space`)
    const result: SpaceBotCredentials[] = []
    for (const row of rows) {
      try {
        result.push(this.open(row))
      } catch (error) {
        onUnreadable(row.space, error as Error)
      }
    }
    return result
  }

  private open(row: Row): SpaceBotCredentials {
    return { ...publicOf(row), token: this.box.open(row.token_ciphertext, row.space) }
  }
}

interface Row {
  space: string
  bot_id: string
  username: string
  token_ciphertext: Uint8Array
  updated_at: Date | string
}

const COLUMNS = 'space, bot_id::text AS bot_id, username, token_ciphertext, updated_at'

function publicOf(row: Row): SpaceBot {
  return { space: row.space, botId: Number(row.bot_id), username: row.username, updatedAt: new Date(row.updated_at).getTime() }
}

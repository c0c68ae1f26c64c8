import { join } from 'node:path'
import type { BotHandle, BotObserver, BotRole, BotStatus } from '@botsync/bot'
import { settingsOf } from '@botsync/bot/config'
import { SPACE_BOTS_CHANNEL, type Database } from '@botsync/persistence'
import { spaceServiceToken } from '../auth/bot-service-tokens.ts'
import type { ServerConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import type { SpaceBots } from './space-bots.ts'

export type SpaceBotState = 'starting' | 'connected' | 'failing' | 'stopped'

/** One space's bot as /health and GET /api/spaces/:space/bot show it (never its token). */
export interface SpaceBotStatus {
  state: SpaceBotState
  /** Telegram's description when failing (`Unauthorized`, `Conflict: …`), or why it could not start. */
  error?: string
  /** getMe's username once known. */
  username?: string
  /** `stored`: set in the admin (space_bots); `bootstrap`: TELEGRAM_BOT_TOKEN for BOT_SPACE. */
  source: 'stored' | 'bootstrap'
  /** poller, standby or webhook, once started. */
  role?: BotRole
}

/** The bot the webhook route hands POSTs to (the bootstrap bot in webhook mode). */
export type WebhookView = NonNullable<BotHandle['webhook']>

interface Wanted {
  token: string
  source: 'stored' | 'bootstrap'
  username?: string
}

interface Running {
  wanted: Wanted
  status: SpaceBotStatus
  handle: BotHandle | undefined
  /** The current start attempt: the bot, or undefined if it failed or was stopped. */
  readonly starting: Promise<BotHandle | undefined>
  /** Stops this run: the bot if it started, and any pending retry. */
  stop(): Promise<void>
}

export interface BotSupervisorOptions {
  config: ServerConfig
  db: Database
  spaceBots: SpaceBots
  log: Logger
  /** The server's own port, once listening (the bots connect to /collab like any client). */
  port: () => number
  observe?: BotObserver
  /** Before a failed start is tried again (network, 5xx; not a refused token). Default 30 s. */
  retryMs?: number
  /** How often a standby bot checks its token with getMe (the poller learns it from every poll). Default 30 s. */
  standbyCheckMs?: number
}

/**
 * One embedded bot per space that has one: every row of `space_bots` (set
 * by the space's owner in the admin), plus the bootstrap TELEGRAM_BOT_TOKEN
 * for BOT_SPACE. A stored row for BOT_SPACE wins over the bootstrap token
 * (the owner's choice in the admin is the one they can see and change);
 * removing that row brings the bootstrap bot back.
 *
 * `start()` reads the rows and LISTENs on `botsync_space_bots`, so the
 * tokens Mini App checks use are current on every instance; `run()` starts
 * the bots themselves (main.ts, after the server listens). A NOTIFY for a
 * space re-reads its row and restarts, starts or stops its bot, on every
 * instance: every instance runs every bot, and the bot's polling leadership
 * lock (per bot id and space) lets one instance poll while the others stand
 * by. Changes of one space are applied one after another.
 *
 * Stored bots always poll; only the bootstrap bot takes TELEGRAM_WEBHOOK_URL
 * (one URL, one bot: a webhook per space would need a path per space and a
 * secret per bot, for no gain over polling, which needs no public URL).
 */
export class BotSupervisor {
  private readonly options: BotSupervisorOptions
  private readonly log: Logger
  /** The token each space should run with now (stored rows over the bootstrap one). */
  private readonly wanted = new Map<string, Wanted>()
  private readonly running = new Map<string, Running>()
  /** Per space: the chain of changes being applied, so a fast set-then-remove is applied in order. */
  private readonly chains = new Map<string, Promise<void>>()
  private stopListening: (() => Promise<void>) | null = null
  private runningBots = false
  private stopped = false

  constructor(options: BotSupervisorOptions) {
    this.options = options
    this.log = options.log
    const { telegramToken } = options.config.bot
    if (telegramToken) this.wanted.set(options.config.botSpace, { token: telegramToken, source: 'bootstrap' })
  }

  /** Loads the stored bots and follows their changes (no bot is started yet). */
  async start(): Promise<void> {
    this.stopListening = await this.options.db.listen(SPACE_BOTS_CHANNEL, {
      onNotify: (payload) => this.onNotify(payload),
      // Changes while the link was down are unknown: re-read everything.
      onReconnect: () => void this.reloadAll(),
    })
    await this.reloadAll()
  }

  /** Starts every wanted bot; from now on changes start, restart and stop bots live. */
  async run(): Promise<void> {
    this.runningBots = true
    await Promise.all([...this.wanted.keys()].map((space) => this.enqueue(space, () => this.apply(space))))
  }

  /** Stops following changes and stops every bot (each finishes its running updates). */
  async stop(): Promise<void> {
    this.stopped = true
    await this.stopListening?.().catch(() => {})
    this.stopListening = null
    await Promise.allSettled([...this.chains.values()])
    await Promise.allSettled([...this.running.values()].map((run) => run.stop()))
    this.running.clear()
  }

  /** The Telegram token of a space's bot, for verifying its Mini App readers; undefined: the space has no bot. */
  telegramTokenOf(space: string): string | undefined {
    return this.wanted.get(space)?.token
  }

  /** The status of a space's bot; undefined when the space has none (or bots are not run here). */
  status(space: string): SpaceBotStatus | undefined {
    const run = this.running.get(space)
    // The role changes by itself (a standby becomes the poller): read it now.
    if (run) return { ...run.status, ...(run.handle ? { role: run.handle.role } : {}) }
    const wanted = this.wanted.get(space)
    // Configured but not run (yet) on this instance.
    return wanted ? { state: 'stopped', source: wanted.source, ...(wanted.username ? { username: wanted.username } : {}) } : undefined
  }

  statuses(): Record<string, SpaceBotStatus> {
    const spaces = [...new Set([...this.wanted.keys(), ...this.running.keys()])].sort()
    return Object.fromEntries(spaces.map((space) => [space, this.status(space)!]))
  }

  /** Resolves once the current start of a space's bot succeeded (its handle) or failed (undefined). */
  async started(space: string): Promise<BotHandle | undefined> {
    await this.chains.get(space)
    return this.running.get(space)?.starting
  }

  /** This server's /collab as its own bots (and the chat simulator's replicas) reach it. */
  collabUrl(): string {
    const { host: configured } = this.options.config
    const host = configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured
    return `ws://${host.includes(':') ? `[${host}]` : host}:${this.options.port()}/collab`
  }

  /** The running bot of a space (tests, metrics, the chat simulator's content). */
  handleOf(space: string): BotHandle | undefined {
    return this.running.get(space)?.handle
  }

  /** The webhook receiver of the bootstrap bot, when it runs in webhook mode. */
  webhook(): WebhookView | undefined {
    const run = this.running.get(this.options.config.botSpace)
    return run?.wanted.source === 'bootstrap' ? run.handle?.webhook : undefined
  }

  /** Resolves once every change notified so far has been applied (tests). */
  async settled(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()])
  }

  private onNotify(payload: string): void {
    let message: { space?: unknown; all?: unknown }
    try {
      message = JSON.parse(payload) as typeof message
    } catch {
      return
    }
    if (message.all === true) void this.reloadAll()
    else if (typeof message.space === 'string') void this.enqueue(message.space, () => this.reload(message.space as string))
  }

  private async reloadAll(): Promise<void> {
    const stored = await this.options.spaceBots.listCredentials((space, error) =>
      this.log.error(
        { event: 'space-bot-unreadable', space, err: error },
        'a stored bot token does not decrypt (SECRETS_KEY changed, or instances sharing the database do not share it); that bot is not run',
      ),
    )
    const spaces = new Set([...this.wanted.keys(), ...stored.map((row) => row.space)])
    const bySpace = new Map(stored.map((row) => [row.space, row]))
    await Promise.all(
      [...spaces].map((space) =>
        this.enqueue(space, async () => {
          this.setWanted(space, bySpace.get(space))
          await this.apply(space)
        }),
      ),
    )
  }

  private async reload(space: string): Promise<void> {
    let row
    try {
      row = await this.options.spaceBots.credentials(space)
    } catch (error) {
      this.log.error({ event: 'space-bot-unreadable', space, err: error }, 'could not read the stored bot of a space; its bot is left as it is')
      return
    }
    this.setWanted(space, row ?? undefined)
    await this.apply(space)
  }

  private setWanted(space: string, row: { token: string; username: string } | undefined): void {
    const { telegramToken } = this.options.config.bot
    if (row) this.wanted.set(space, { token: row.token, source: 'stored', username: row.username })
    else if (telegramToken && space === this.options.config.botSpace) this.wanted.set(space, { token: telegramToken, source: 'bootstrap' })
    else this.wanted.delete(space)
  }

  private enqueue(space: string, change: () => Promise<void>): Promise<void> {
    const previous = this.chains.get(space) ?? Promise.resolve()
    const next = previous.then(change).catch((error: unknown) => {
      this.log.error({ event: 'space-bot-change-failed', space, err: error }, 'applying a change of a space bot failed')
    })
    this.chains.set(space, next)
    void next.then(() => {
      if (this.chains.get(space) === next) this.chains.delete(space)
    })
    return next
  }

  /** Makes the running bot of `space` match the wanted one: nothing, start, restart or stop. */
  private async apply(space: string): Promise<void> {
    if (!this.runningBots || this.stopped) return
    const wanted = this.wanted.get(space)
    const current = this.running.get(space)
    if (current && wanted && current.wanted.token === wanted.token && current.wanted.source === wanted.source) return
    if (current) {
      this.running.delete(space)
      await current.stop()
      this.log.info({ event: 'space-bot-stopped', space, username: current.status.username, reason: wanted ? 'token-changed' : 'removed' })
    }
    if (wanted) this.launch(space, wanted)
  }

  /** Starts a bot in the background; its status says how it goes. A failed start is retried unless Telegram refused the token. */
  private launch(space: string, wanted: Wanted): void {
    const status: SpaceBotStatus = { state: 'starting', source: wanted.source, ...(wanted.username ? { username: wanted.username } : {}) }
    let stopped = false
    let retry: NodeJS.Timeout | undefined
    let check: NodeJS.Timeout | undefined
    let starting: Promise<BotHandle | undefined> = Promise.resolve(undefined)
    const run: Running = {
      wanted,
      status,
      handle: undefined,
      get starting() {
        return starting
      },
      stop: async () => {
        stopped = true
        clearTimeout(retry)
        clearInterval(check)
        const handle = await starting
        await handle?.stop()
        status.state = 'stopped'
        delete status.error
      },
    }
    const attempt = () => {
      starting = this.startOne(space, wanted, status)
        .then(async (handle) => {
          if (stopped) {
            await handle.stop()
            return undefined
          }
          run.handle = handle
          // A standby never calls Telegram, so it would show `connected` while the poller (on another
          // instance) is refused: it asks getMe now and then, and shows a refused token as failing too.
          check = setInterval(() => {
            if (handle.role !== 'standby') return
            handle.telegram.getMe().then(
              () => {
                if (status.state !== 'failing' || handle.role !== 'standby' || stopped) return
                status.state = 'connected'
                delete status.error
              },
              (error: unknown) => {
                if (handle.role !== 'standby' || stopped) return
                status.state = 'failing'
                status.error = describe(error)
              },
            )
          }, this.options.standbyCheckMs ?? 30_000).unref()
          status.username = handle.bot.botInfo?.username ?? status.username
          status.role = handle.role
          return handle
        })
        .catch((error: unknown) => {
          const code = (error as { code?: unknown }).code
          const description = describe(error)
          status.state = 'failing'
          status.error = description
          const refused = code === 401 || code === 404
          this.log.error(
            { event: 'space-bot-start-failed', space, source: wanted.source, code, error: description, retryInMs: refused || stopped ? undefined : this.retryMs },
            refused ? 'Telegram refused the bot token; set a new one in Settings' : 'the bot did not start; trying again',
          )
          if (!refused && !stopped) retry = setTimeout(attempt, this.retryMs).unref()
          return undefined
        })
    }
    this.running.set(space, run)
    attempt()
  }

  private get retryMs(): number {
    return this.options.retryMs ?? 30_000
  }

  private async startOne(space: string, wanted: Wanted, status: SpaceBotStatus): Promise<BotHandle> {
    const { config } = this.options
    const { bot } = config
    const { startBot, miniAppUrlForSpace } = await import('@botsync/bot')
    const bootstrap = wanted.source === 'bootstrap'
    const settings = settingsOf(bot)
    return startBot(
      {
        telegramToken: wanted.token,
        telegramApiRoot: bot.telegramApiRoot,
        serverUrl: this.collabUrl(),
        // The raw BOT_SERVICE_TOKEN means BOT_SPACE; any other space's bot gets a token for its space only.
        serviceToken: bootstrap ? config.botServiceToken : spaceServiceToken(config.botServiceToken, space),
        space,
        replicaFile: space === config.botSpace ? bot.replicaFile || join(config.dataDir, 'bot-replica.json') : join(config.dataDir, 'bot-replicas', `${space}.json`),
        logLevel: config.logLevel,
        // The polling leadership's lock connection; none with the embedded PGlite (one process anyway).
        databaseUrl: config.databaseUrl,
        ...settings,
        // Only the bootstrap bot takes the webhook; stored bots poll (see the class comment).
        webhookUrl: bootstrap ? settings.webhookUrl : undefined,
        webhookSecret: bootstrap ? settings.webhookSecret : undefined,
        miniAppUrl: settings.miniAppUrl ? miniAppUrlForSpace(settings.miniAppUrl, space) : undefined,
      },
      {
        sessions: this.options.db,
        log: this.log.child({ component: 'bot', space }),
        instanceId: config.instanceId,
        observe: this.options.observe,
        onStatus: (next: BotStatus) => {
          if (status.state === 'stopped') return
          status.state = next.state
          if (next.state === 'failing') status.error = next.error
          else delete status.error
        },
      },
    )
  }
}

function describe(error: unknown): string {
  const description = (error as { description?: unknown } | null)?.description
  if (typeof description === 'string') return description
  return error instanceof Error ? error.message : String(error)
}

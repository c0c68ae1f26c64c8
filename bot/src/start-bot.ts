import { Agent } from 'node:http'
import { Context, Telegraf, session, type Telegram } from 'telegraf'
import { ActivityReporter } from './activity/activity-reporter.ts'
import { httpBaseOf, type BotConfig } from './config.ts'
import { createLogger, type Logger } from './logger.ts'
import { SpaceReplica } from './replica/space-replica.ts'
import { ScenarioRunner, type BotContext } from './runner/scenario-runner.ts'
import { SpaceView } from './runner/space-view.ts'
import { newUserState, type UserState } from './runner/user-state.ts'
import { PgPoolClient } from './session/pg-pool-client.ts'
import { PgSessionStore, type SqlClient } from './session/pg-session-store.ts'
import { RateLimiter, TELEGRAM_RATE_LIMITS, type RateLimits } from './telegram/rate-limiter.ts'
import { ThrottledTelegram } from './telegram/throttled-telegram.ts'
import { UpdatePoller } from './telegram/update-poller.ts'

export interface StartBotOptions {
  /** Where sessions are stored; without it a pool on `config.databaseUrl` is opened. */
  sessions?: SqlClient
  log?: Logger
  rateLimits?: RateLimits
  /** How long a first start (no saved replica) waits for the server's content. Default 10 s. */
  initialSyncTimeoutMs?: number
  activityFlushMs?: number
  replicaSaveDelayMs?: number
  maxReconnectDelayMs?: number
  pollTimeoutSeconds?: number
  /** Longest a batch of updates waits for the replica to catch up with the server. Default BOT_CATCH_UP_TIMEOUT_MS or 2 s. */
  catchUpTimeoutMs?: number
}

export interface BotHandle {
  readonly replica: SpaceReplica
  readonly bot: Telegraf<BotContext>
  readonly telegram: Telegram
  readonly activity: ActivityReporter
  readonly log: Logger
  /** Stops polling, finishes running updates, then saves the replica and sends the last activity. */
  stop(): Promise<void>
}

/**
 * Starts the bot: the replica (from its file first, then live), the session
 * store, the runner and long polling. Resolves once polling has started;
 * rejects when Telegram refuses the token or the session store is
 * unreachable.
 */
export async function startBot(config: BotConfig, options: StartBotOptions = {}): Promise<BotHandle> {
  const log = options.log ?? createLogger(config.logLevel)
  let ownPool: PgPoolClient | undefined
  let sessions = options.sessions
  if (!sessions) {
    if (!config.databaseUrl) throw new Error('the bot needs DATABASE_URL for its session store when it runs on its own')
    sessions = ownPool = new PgPoolClient(config.databaseUrl)
  }
  const store = new PgSessionStore<UserState>(sessions, config.space)

  const replica = new SpaceReplica({
    url: config.serverUrl,
    token: config.serviceToken,
    space: config.space,
    file: config.replicaFile,
    log,
    saveDelayMs: options.replicaSaveDelayMs,
    maxReconnectDelayMs: options.maxReconnectDelayMs,
    catchUpTimeoutMs: options.catchUpTimeoutMs ?? config.catchUpTimeoutMs,
  })
  const activity = new ActivityReporter({
    serverUrl: httpBaseOf(config.serverUrl),
    token: config.serviceToken,
    log,
    flushIntervalMs: options.activityFlushMs,
  })

  const telegram = new ThrottledTelegram(
    config.telegramToken,
    {
      apiRoot: config.telegramApiRoot,
      // telegraf drops its keep-alive agent for http:// roots (a local Bot API server).
      ...(config.telegramApiRoot.startsWith('http://') ? { agent: new Agent({ keepAlive: true }) } : {}),
    },
    { limiter: new RateLimiter(options.rateLimits ?? TELEGRAM_RATE_LIMITS), log },
  )
  // telegraf makes a fresh client for every update; this context hands every
  // handler the throttled one instead.
  class ThrottledContext extends Context {
    constructor(update: ConstructorParameters<typeof Context>[0], _telegram: Telegram, botInfo: ConstructorParameters<typeof Context>[2]) {
      super(update, telegram, botInfo)
    }
  }
  const bot = new Telegraf<BotContext>(config.telegramToken, { contextType: ThrottledContext as typeof Context })
  bot.telegram = telegram
  bot.catch((error, ctx) => {
    log.error({ event: 'update-failed', update: ctx.update.update_id, chat: ctx.chat?.id, err: error }, 'an update could not be answered')
  })
  bot.use(session({ store, defaultSession: () => newUserState() }))
  const view = new SpaceView(replica, log, { miniAppUrl: config.miniAppUrl })
  bot.use(new ScenarioRunner({ view, activity, log }).middleware())

  const poller = new UpdatePoller({
    telegram,
    handle: (update) => bot.handleUpdate(update),
    // Read-your-writes: one round trip per batch, so every answer carries at least what the server had acknowledged.
    beforeBatch: async () => {
      await replica.catchUp()
    },
    log,
    pollTimeoutSeconds: options.pollTimeoutSeconds,
  })

  try {
    await store.init()
    bot.botInfo = await telegram.getMe()
    await telegram.deleteWebhook()
    if (config.miniAppUrl) await setMiniAppMenuButton(telegram, config.miniAppUrl, config.miniAppMenuText ?? 'Open', log)
    const restored = await replica.start()
    if (restored === 0) {
      // First start: without a saved copy the bot has nothing to say until the server answers.
      const synced = await replica.whenSynced(options.initialSyncTimeoutMs ?? 10_000)
      if (!synced) log.warn({ event: 'replica-not-synced', url: config.serverUrl }, 'starting before the content arrived; answers use defaults until it does')
    }
  } catch (error) {
    await replica.stop().catch(() => {})
    await ownPool?.close().catch(() => {})
    throw error
  }
  poller.start()
  log.info({ event: 'bot-started', username: bot.botInfo.username, space: config.space })

  let stopping: Promise<void> | undefined
  return {
    replica,
    bot,
    telegram,
    activity,
    log,
    stop() {
      stopping ??= (async () => {
        await poller.stop()
        await Promise.allSettled([replica.stop(), activity.stop()])
        await ownPool?.close().catch(() => {})
        log.info({ event: 'bot-stopped' })
      })()
      return stopping
    },
  }
}

/**
 * Makes the chat menu button (next to the message field) open the Mini App,
 * for every chat (no chat_id: the bot's default). A refusal (say, a URL that
 * is not https) is logged and the bot runs on: the menu button is a
 * convenience, the chat works without it.
 */
async function setMiniAppMenuButton(telegram: Telegram, url: string, text: string, log: Logger): Promise<void> {
  try {
    await telegram.setChatMenuButton({ menuButton: { type: 'web_app', text, web_app: { url } } })
    log.info({ event: 'menu-button-set', url })
  } catch (error) {
    log.warn({ event: 'menu-button-refused', url, err: error }, 'Telegram refused the Mini App menu button; check MINIAPP_URL (it must be https)')
  }
}

import { randomBytes } from 'node:crypto'
import { Agent } from 'node:http'
import { hostname } from 'node:os'
import type { Update } from 'telegraf/types'
import { Context, Telegraf, session, type Telegram } from 'telegraf'
import { ActivityReporter } from './activity/activity-reporter.ts'
import { httpBaseOf, type BotConfig } from './config.ts'
import { createLogger, type Logger } from './logger.ts'
import type { MediaFiles } from './media/media-files.ts'
import { MediaSender } from './media/media-sender.ts'
import { PgFileIdStore } from './media/pg-file-id-store.ts'
import { ServerMediaFiles } from './media/server-media-files.ts'
import { describeTelegramError, type BotObserver, type BotStatus } from './observer.ts'
import { SpaceReplica } from './replica/space-replica.ts'
import { ScenarioRunner, type BotContext } from './runner/scenario-runner.ts'
import { SpaceView } from './runner/space-view.ts'
import { newUserState, type UserState } from './runner/user-state.ts'
import { PgPoolClient } from './session/pg-pool-client.ts'
import { PgSessionStore, type SqlClient } from './session/pg-session-store.ts'
import { RateLimiter, TELEGRAM_RATE_LIMITS, type RateLimits } from './telegram/rate-limiter.ts'
import { ThrottledTelegram } from './telegram/throttled-telegram.ts'
import { UpdatePoller } from './telegram/update-poller.ts'
import { InboxWorker } from './inbox/inbox-worker.ts'
import { PollerLeadership } from './inbox/poller-leadership.ts'
import { UpdateInbox } from './inbox/update-inbox.ts'
import { WebhookReceiver } from './inbox/webhook-receiver.ts'

export type BotRole = 'poller' | 'standby' | 'webhook'

export interface StartBotOptions {
  /** Where sessions are stored (and Telegram's file_ids of uploaded media); without it a pool on `config.databaseUrl` is opened. */
  sessions?: SqlClient
  /** Where steps' media files are read; default the server's `GET /api/spaces/:space/media/:id` with the service token. */
  media?: MediaFiles
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
  /** Names this process's claims in the inbox (the server's INSTANCE_ID); a random suffix is added. */
  instanceId?: string
  /**
   * Awaited once per batch of claimed updates, before any of them is
   * handled (e.g. until the replica covers what the server acknowledged).
   * Unset: updates are handled as soon as they are claimed.
   */
  beforeBatch?: (updates: Update[]) => Promise<void>
  /** How often the inbox worker looks for updates nobody woke it for. Default 1000 ms. */
  inboxIdleCheckMs?: number
  /** Told about each handled update and each Telegram call (the embedded bot feeds the server's /metrics). */
  observe?: BotObserver
  /**
   * Told each time the bot's standing with Telegram changes (connected, or
   * failing with Telegram's error). A start that fails (getMe refused)
   * rejects instead; what it says is the same description.
   */
  onStatus?: (status: BotStatus) => void
}

export interface BotHandle {
  readonly replica: SpaceReplica
  readonly bot: Telegraf<BotContext>
  readonly telegram: Telegram
  readonly activity: ActivityReporter
  readonly log: Logger
  readonly inbox: UpdateInbox
  /** `poller` (this instance polls Telegram), `standby` (another one does) or `webhook`. */
  readonly role: BotRole
  /** In webhook mode: what the HTTP layer hands POSTs on the webhook's path to. */
  readonly webhook: WebhookReceiver | undefined
  /** Stops polling, finishes running updates, then saves the replica and sends the last activity. */
  stop(): Promise<void>
}

/**
 * Starts the bot: the replica (from its file first, then live), the session
 * store, the runner, the update inbox and either long polling (this
 * instance leads, or stands by while another one does) or the webhook.
 * Resolves once it polls, stands by or has set the webhook; rejects when
 * Telegram refuses the token or the database is unreachable.
 */
export async function startBot(config: BotConfig, options: StartBotOptions = {}): Promise<BotHandle> {
  const log = options.log ?? createLogger(config.logLevel)
  let lastStatus = ''
  const report = (status: BotStatus) => {
    const key = JSON.stringify(status)
    if (key === lastStatus) return
    lastStatus = key
    options.onStatus?.(status)
  }
  let ownPool: PgPoolClient | undefined
  let sessions = options.sessions
  if (!sessions) {
    if (!config.databaseUrl) throw new Error('the bot needs DATABASE_URL for its session store when it runs on its own')
    sessions = ownPool = new PgPoolClient(config.databaseUrl)
  }
  const webhookMode = config.webhookUrl !== undefined
  // Webhook instances share chats, so none may answer from a cached session.
  const store = new PgSessionStore<UserState>(sessions, config.space, webhookMode ? { cacheSize: 0 } : {})
  const owner = `${options.instanceId ?? `${hostname()}-${process.pid}`}/${randomBytes(4).toString('hex')}`

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
    { limiter: new RateLimiter(options.rateLimits ?? TELEGRAM_RATE_LIMITS), log, observe: options.observe },
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
  const fileIds = new PgFileIdStore(sessions)
  const mediaFiles = options.media ?? new ServerMediaFiles({ serverUrl: httpBaseOf(config.serverUrl), token: config.serviceToken, space: config.space })
  const media = new MediaSender({ files: mediaFiles, fileIds, log })
  bot.use(new ScenarioRunner({ view, activity, log, media }).middleware())

  // Read-your-writes: one round trip per batch, so every answer carries at least what the server had acknowledged.
  const beforeBatch =
    options.beforeBatch ??
    (async () => {
      await replica.catchUp()
    })
  let inbox: UpdateInbox
  let role: BotRole = 'standby'
  let webhook: WebhookReceiver | undefined
  let worker: InboxWorker | undefined
  let poller: UpdatePoller | undefined
  let leadership: PollerLeadership | undefined
  const timed = async (update: Update) => {
    const started = performance.now()
    try {
      await bot.handleUpdate(update)
    } finally {
      options.observe?.updateHandled(performance.now() - started)
    }
  }
  const newWorker = () => new InboxWorker({ inbox, handle: (update) => timed(update), beforeBatch, log, idleCheckMs: options.inboxIdleCheckMs })
  /** Polling leader: first what is recorded and not handled (claims of a previous leader are void), then Telegram. */
  const lead = async () => {
    store.forget()
    const released = await inbox.releaseClaims()
    if (released > 0) log.info({ event: 'inbox-claims-released', updates: released })
    await telegram.deleteWebhook()
    const current = (worker = newWorker())
    current.start()
    poller = new UpdatePoller({
      telegram,
      // Recorded and claimed in one commit; handling starts before the next poll confirms them.
      record: async (updates) => {
        const claimed = await inbox.recordAndClaim(updates)
        void current.offer(claimed)
        // Some left for their turn (a chat's later updates, or older ones waiting).
        if (claimed.length < updates.length) current.wake()
      },
      log,
      pollTimeoutSeconds: options.pollTimeoutSeconds,
      onPollOutcome: (error) => report(error === null ? { state: 'connected' } : { state: 'failing', ...describeTelegramError(error) }),
    })
    poller.start()
    role = 'poller'
  }
  const standDown = async () => {
    role = 'standby'
    await poller?.stop()
    await worker?.stop()
    poller = worker = undefined
  }

  try {
    await store.init()
    await fileIds.init()
    bot.botInfo = await telegram.getMe()
    report({ state: 'connected' })
    inbox = new UpdateInbox({ db: sessions, botId: bot.botInfo.id, space: config.space, owner, leaseSeconds: config.claimLeaseSeconds ?? 30 })
    await inbox.init()
    if (config.miniAppUrl) await setMiniAppMenuButton(telegram, config.miniAppUrl, config.miniAppMenuText ?? 'Open', log)
    const restored = await replica.start()
    if (restored === 0) {
      // First start: without a saved copy the bot has nothing to say until the server answers.
      const synced = await replica.whenSynced(options.initialSyncTimeoutMs ?? 10_000)
      if (!synced) log.warn({ event: 'replica-not-synced', url: config.serverUrl }, 'starting before the content arrived; answers use defaults until it does')
    }
    if (webhookMode) {
      const secret = config.webhookSecret ?? (await inbox.sharedWebhookSecret())
      const current = (worker = newWorker())
      webhook = new WebhookReceiver({
        url: config.webhookUrl!,
        secret,
        record: async (update) => {
          const claimed = await inbox.recordAndClaim([update])
          void current.offer(claimed)
          if (claimed.length === 0) current.wake()
        },
      })
      current.start()
      await telegram.setWebhook(config.webhookUrl!, { secret_token: secret, allowed_updates: [] })
      role = 'webhook'
    } else if (config.databaseUrl) {
      leadership = new PollerLeadership({
        connectionString: config.databaseUrl,
        key: `${bot.botInfo.id}:${config.space}`,
        log,
        retryMs: config.standbyRetryMs ?? 1000,
        onLead: lead,
        onLose: standDown,
      })
      await leadership.start()
    } else {
      // No URL for a connection of its own (the embedded PGlite): one process, it leads.
      await lead()
    }
  } catch (error) {
    await leadership?.stop().catch(() => {})
    await poller?.stop().catch(() => {})
    await worker?.stop().catch(() => {})
    await replica.stop().catch(() => {})
    await ownPool?.close().catch(() => {})
    throw error
  }
  log.info({ event: 'bot-started', username: bot.botInfo.username, space: config.space, role })

  let stopping: Promise<void> | undefined
  return {
    replica,
    bot,
    telegram,
    activity,
    log,
    get inbox() {
      return inbox
    },
    get role() {
      return role
    },
    webhook,
    stop() {
      stopping ??= (async () => {
        // Polling stops first (what it fetched is recorded), running updates
        // commit, and only then is the leadership given up.
        await poller?.stop()
        await worker?.stop()
        await leadership?.stop()
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

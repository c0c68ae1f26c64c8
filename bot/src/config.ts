import { join, resolve } from 'node:path'

/**
 * The bot's optional settings, taken from its environment as they are by
 * whoever builds its config (loadBotConfig for the stand-alone bot,
 * server/src/embedded-bot.ts for the embedded one): see settingsOf.
 */
export interface BotSettings {
  /**
   * MINIAPP_URL: when set, the bot's menu button opens this Mini App (https),
   * and web_app buttons with a relative URL ("/miniapp#faq") resolve against it.
   */
  miniAppUrl?: string
  /** Label of that menu button. */
  miniAppMenuText?: string
  /** BOT_CATCH_UP_TIMEOUT_MS: longest a batch of updates waits for the replica to catch up with the server. */
  catchUpTimeoutMs?: number
  /** TELEGRAM_WEBHOOK_URL: set, the bot takes updates by webhook (https) instead of long polling. */
  webhookUrl?: string
  /** TELEGRAM_WEBHOOK_SECRET: the webhook's secret_token; default: generated once into the database. */
  webhookSecret?: string
  /** BOT_STANDBY_RETRY_MS: how often a standby instance tries to become the poller. Default 1000. */
  standbyRetryMs?: number
  /** BOT_CLAIM_LEASE_SECONDS: how long an instance's claim on an update lasts before another may take it over. Default 30. */
  claimLeaseSeconds?: number
}

export interface BotConfig extends BotSettings {
  /** Token from @BotFather. */
  telegramToken: string
  /** Bot API root; a local Bot API server or a test double. */
  telegramApiRoot: string
  /** The collaboration endpoint, e.g. ws://127.0.0.1:8080/collab. */
  serverUrl: string
  /** BOT_SERVICE_TOKEN: read-only access to `space`. */
  serviceToken: string
  space: string
  /** Where the replica is saved, so the bot answers while the server is down. */
  replicaFile: string
  /** PostgreSQL for the session store when the bot runs on its own. */
  databaseUrl?: string
  logLevel: string
}

type Env = Record<string, string | undefined>

export const DEFAULT_TELEGRAM_API_ROOT = 'https://api.telegram.org'

/**
 * The bot's own environment variables (README's configuration table). This
 * is the only place they are read: loadBotConfig builds the stand-alone
 * bot's config from them, and the server's loadConfig keeps them for the
 * embedded bot (and uses the bot's token, service token and space itself).
 * An empty variable counts as unset, except BOT_SPACE, which is kept as
 * given: the stand-alone bot falls back to `demo` when it is empty, the
 * server only when it is unset.
 */
export interface BotEnvironment extends BotSettings {
  /** TELEGRAM_BOT_TOKEN */
  telegramToken?: string
  /** TELEGRAM_API_ROOT, or DEFAULT_TELEGRAM_API_ROOT. */
  telegramApiRoot: string
  /** BOT_SERVER_URL (stand-alone bot only) */
  serverUrl?: string
  /** BOT_SERVICE_TOKEN */
  serviceToken?: string
  /** BOT_SPACE, '' included */
  space?: string
  /** BOT_REPLICA_FILE, as given (default: DATA_DIR/bot-replica.json, by whoever builds the BotConfig) */
  replicaFile?: string
}

/** Reads and checks the bot's variables; a bad value is an error naming the variable. */
export function readBotEnvironment(env: Env = process.env): BotEnvironment {
  const webhookUrl = env.TELEGRAM_WEBHOOK_URL || undefined
  if (webhookUrl !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(webhookUrl)
    } catch {
      // reported below
    }
    if (url?.protocol !== 'https:') throw new Error(`TELEGRAM_WEBHOOK_URL must be an https URL (Telegram delivers webhooks over https only), got ${JSON.stringify(webhookUrl)}`)
  }
  const webhookSecret = env.TELEGRAM_WEBHOOK_SECRET || undefined
  if (webhookSecret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(webhookSecret)) {
    throw new Error('TELEGRAM_WEBHOOK_SECRET must be 1–256 characters of A-Z, a-z, 0-9, _ and - (what Telegram accepts as secret_token)')
  }
  return {
    webhookUrl,
    webhookSecret,
    standbyRetryMs: positiveInt(env, 'BOT_STANDBY_RETRY_MS'),
    claimLeaseSeconds: positiveInt(env, 'BOT_CLAIM_LEASE_SECONDS'),
    telegramToken: env.TELEGRAM_BOT_TOKEN || undefined,
    telegramApiRoot: env.TELEGRAM_API_ROOT || DEFAULT_TELEGRAM_API_ROOT,
    serverUrl: env.BOT_SERVER_URL || undefined,
    serviceToken: env.BOT_SERVICE_TOKEN || undefined,
    space: env.BOT_SPACE,
    replicaFile: env.BOT_REPLICA_FILE || undefined,
    miniAppUrl: env.MINIAPP_URL || undefined,
    miniAppMenuText: env.MINIAPP_MENU_TEXT || undefined,
    catchUpTimeoutMs: catchUpTimeout(env.BOT_CATCH_UP_TIMEOUT_MS),
  }
}

function catchUpTimeout(value: string | undefined): number | undefined {
  if (!value) return undefined
  const ms = Number(value)
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) throw new Error(`BOT_CATCH_UP_TIMEOUT_MS must be an integer from 0 to 60000 (ms), got ${JSON.stringify(value)}`)
  return ms
}

/**
 * Configuration of a stand-alone bot (`node bot/src/main.ts`), from the
 * environment; documented in the README. The embedded bot of `npm start`
 * builds its config from the server's instead (server/src/embedded-bot.ts),
 * which holds this same BotEnvironment.
 */
export function loadBotConfig(env: Env = process.env): BotConfig {
  const bot = readBotEnvironment(env)
  const required = { TELEGRAM_BOT_TOKEN: bot.telegramToken, BOT_SERVER_URL: bot.serverUrl, BOT_SERVICE_TOKEN: bot.serviceToken }
  const missing = Object.entries(required)
    .filter(([, value]) => !value)
    .map(([name]) => name)
  if (missing.length > 0) throw new Error(`the bot needs ${missing.join(', ')} (see the README's configuration table)`)
  if (bot.webhookUrl) {
    throw new Error('TELEGRAM_WEBHOOK_URL needs an HTTP listener for the webhook: run the bot inside the server (npm start), or leave it unset to poll')
  }
  const dataDir = resolve(env.DATA_DIR ?? './data')
  return {
    telegramToken: bot.telegramToken!,
    telegramApiRoot: bot.telegramApiRoot,
    serverUrl: bot.serverUrl!,
    serviceToken: bot.serviceToken!,
    space: bot.space || 'demo',
    replicaFile: resolve(bot.replicaFile || join(dataDir, 'bot-replica.json')),
    databaseUrl: env.DATABASE_URL || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    ...settingsOf(bot),
  }
}

/** The optional settings of a BotEnvironment: everything but what each builder of a BotConfig derives itself. */
export function settingsOf(bot: BotEnvironment): BotSettings {
  const { telegramToken: _token, telegramApiRoot: _apiRoot, serverUrl: _serverUrl, serviceToken: _serviceToken, space: _space, replicaFile: _replicaFile, ...settings } = bot
  return settings
}

function positiveInt(env: Env, name: string): number | undefined {
  const value = env[name]
  if (value === undefined || value === '') return undefined
  const number = Number(value)
  if (!Number.isInteger(number) || number <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`)
  return number
}

/** http(s)://host:port of the server behind a ws(s)://…/collab URL (for POST /api/activity). */
export function httpBaseOf(serverUrl: string): string {
  const url = new URL(serverUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  return url.origin
}

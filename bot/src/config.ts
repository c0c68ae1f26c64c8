import { join, resolve } from 'node:path'

export interface BotConfig {
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
  /**
   * MINIAPP_URL: when set, the bot's menu button opens this Mini App (https),
   * and web_app buttons with a relative URL ("/miniapp#faq") resolve against it.
   */
  miniAppUrl?: string
  /** Label of that menu button. */
  miniAppMenuText?: string
}

type Env = Record<string, string | undefined>

export const DEFAULT_TELEGRAM_API_ROOT = 'https://api.telegram.org'

/**
 * Configuration of a stand-alone bot (`node bot/src/main.ts`), from the
 * environment; documented in the README. The embedded bot of `npm start`
 * builds its config from the server's instead (server/src/main.ts).
 */
export function loadBotConfig(env: Env = process.env): BotConfig {
  const missing = ['TELEGRAM_BOT_TOKEN', 'BOT_SERVER_URL', 'BOT_SERVICE_TOKEN'].filter((name) => !env[name])
  if (missing.length > 0) throw new Error(`the bot needs ${missing.join(', ')} (see the README's configuration table)`)
  const dataDir = resolve(env.DATA_DIR ?? './data')
  return {
    telegramToken: env.TELEGRAM_BOT_TOKEN!,
    telegramApiRoot: env.TELEGRAM_API_ROOT || DEFAULT_TELEGRAM_API_ROOT,
    serverUrl: env.BOT_SERVER_URL!,
    serviceToken: env.BOT_SERVICE_TOKEN!,
    space: env.BOT_SPACE || 'demo',
    replicaFile: resolve(env.BOT_REPLICA_FILE || join(dataDir, 'bot-replica.json')),
    databaseUrl: env.DATABASE_URL || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    miniAppUrl: env.MINIAPP_URL || undefined,
    miniAppMenuText: env.MINIAPP_MENU_TEXT || undefined,
  }
}

/** http(s)://host:port of the server behind a ws(s)://…/collab URL (for POST /api/activity). */
export function httpBaseOf(serverUrl: string): string {
  const url = new URL(serverUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  return url.origin
}

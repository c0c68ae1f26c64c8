import { join } from 'node:path'
import type { BotHandle } from '@botsync/bot'
import type { BotsyncServer } from './botsync-server.ts'

type Env = Record<string, string | undefined>

/**
 * `npm start` with TELEGRAM_BOT_TOKEN set also runs the bot, in this process:
 * it connects to this server like any bot would (read-only bot token, over
 * the WebSocket) and keeps its sessions in this server's database. Loaded
 * lazily, so a server without a bot never loads telegraf.
 */
export async function startEmbeddedBot(server: BotsyncServer, env: Env = process.env): Promise<BotHandle | undefined> {
  const token = env.TELEGRAM_BOT_TOKEN
  if (!token) return undefined
  const { startBot, DEFAULT_TELEGRAM_API_ROOT } = await import('@botsync/bot')
  const { config } = server
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  return startBot(
    {
      telegramToken: token,
      telegramApiRoot: env.TELEGRAM_API_ROOT || DEFAULT_TELEGRAM_API_ROOT,
      serverUrl: `ws://${host.includes(':') ? `[${host}]` : host}:${server.port}/collab`,
      serviceToken: config.botServiceToken,
      space: config.botSpace,
      replicaFile: env.BOT_REPLICA_FILE || join(config.dataDir, 'bot-replica.json'),
      logLevel: config.logLevel,
      miniAppUrl: env.MINIAPP_URL || undefined,
      miniAppMenuText: env.MINIAPP_MENU_TEXT || undefined,
    },
    { sessions: server.db, log: server.log.child({ component: 'bot' }) },
  )
}

import { join } from 'node:path'
import type { BotHandle } from '@botsync/bot'
import { settingsOf } from '@botsync/bot/config'
import type { BotsyncServer } from './botsync-server.ts'

/**
 * `npm start` with TELEGRAM_BOT_TOKEN set also runs the bot, in this process:
 * it connects to this server like any bot would (read-only bot token, over
 * the WebSocket) and keeps its sessions in this server's database. Its
 * settings are the server's config (`config.bot`: the bot's variables as
 * @botsync/bot read them, plus the server's service token, space, data
 * directory and log level). Loaded lazily, so a server without a bot never
 * loads telegraf.
 */
export async function startEmbeddedBot(server: BotsyncServer): Promise<BotHandle | undefined> {
  const { config } = server
  const { bot } = config
  const token = bot.telegramToken
  if (!token) return undefined
  const { startBot } = await import('@botsync/bot')
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
  const handle = await startBot(
    {
      telegramToken: token,
      telegramApiRoot: bot.telegramApiRoot,
      serverUrl: `ws://${host.includes(':') ? `[${host}]` : host}:${server.port}/collab`,
      serviceToken: config.botServiceToken,
      space: config.botSpace,
      replicaFile: bot.replicaFile || join(config.dataDir, 'bot-replica.json'),
      logLevel: config.logLevel,
      // The polling leadership's lock connection; none with the embedded PGlite (one process anyway).
      databaseUrl: config.databaseUrl,
      ...settingsOf(bot),
    },
    { sessions: server.db, log: server.log.child({ component: 'bot' }), instanceId: config.instanceId, observe: server.prometheus.botObserver },
  )
  // /health shows its role; in webhook mode the HTTP layer hands it the webhook's POSTs.
  server.telegramBot = handle
  return handle
}

import type { BotHandle } from '@botsync/bot'
import type { BotsyncServer } from './botsync-server.ts'

/**
 * `npm start` runs the bots in this process: one per space that has one
 * (set in the admin, space_bots) plus the bootstrap TELEGRAM_BOT_TOKEN for
 * BOT_SPACE, each connecting to this server like any bot would (a read-only
 * token for its space, over the WebSocket) and keeping its sessions in this
 * server's database (bots/bot-supervisor.ts). Telegraf is loaded only when a
 * bot starts. Resolves to BOT_SPACE's bot once started, if there is one (a
 * bot that fails to start is reported in its status, not thrown).
 */
export async function startEmbeddedBot(server: BotsyncServer): Promise<BotHandle | undefined> {
  await server.bots.run()
  const space = server.config.botSpace
  const handle = await server.bots.started(space)
  if (!handle && server.bots.status(space)?.state === 'failing') throw new Error(server.bots.status(space)?.error ?? 'the bot did not start')
  return handle
}

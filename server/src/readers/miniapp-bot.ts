import { isValidSpace, type MiniAppBotView } from '@botsync/shared-docs'
import type { BotSupervisor } from '../bots/bot-supervisor.ts'
import type { SpaceBots } from '../bots/space-bots.ts'
import type { Handler } from '../http/http-api.ts'
import { HttpError, sendJson } from '../http/respond.ts'

export interface MiniAppBotDeps {
  spaceBots: Pick<SpaceBots, 'get'>
  bots: Pick<BotSupervisor, 'status'>
  /** The space of a page without ?space= (the bootstrap bot's). */
  botSpace: string
}

/**
 * GET /api/miniapp/bot?space=<space>: the @username of the space's bot, for
 * the Mini App page opened without launch data ("open it from @…"). Public
 * and read-only: a bot's username is public on Telegram anyway, and nothing
 * else about the space is answered; a space without a bot and one that does
 * not exist both answer 404, so this cannot list spaces.
 */
export function miniAppBotRoute(deps: MiniAppBotDeps): Handler {
  return async (request, response) => {
    const space = new URL(request.url ?? '/', 'http://localhost').searchParams.get('space') || deps.botSpace
    if (!isValidSpace(space)) throw new HttpError(400, 'invalid-space', 'space must be a space name ([a-z0-9][a-z0-9_-]*)')
    // The stored row is the source for a space's own bot; the bootstrap bot (TELEGRAM_BOT_TOKEN) is known by getMe once started.
    const username = (await deps.spaceBots.get(space))?.username || deps.bots.status(space)?.username
    if (!username) throw new HttpError(404, 'no-bot', 'this space has no Telegram bot')
    const body: MiniAppBotView = { username }
    sendJson(response, 200, body)
  }
}

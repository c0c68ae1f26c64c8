import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SpaceBotSet, SpaceBotView } from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { Principal } from '../auth/roles.ts'
import type { BotSupervisor } from '../bots/bot-supervisor.ts'
import { BotInUse, InvalidBotToken, type SpaceBots } from '../bots/space-bots.ts'
import { TelegramRefused, TelegramUnreachable } from '../bots/telegram-get-me.ts'
import type { Logger } from '../logger.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'

export interface BotRoutesDeps {
  authenticator: Authenticator
  spaceBots: SpaceBots
  bots: BotSupervisor
  log: Logger
}

type Admin = Extract<Principal, { kind: 'admin' }>

/**
 * GET/PUT/DELETE /api/spaces/:space/bot: a space's Telegram bot. The token
 * is taken once (PUT), checked with getMe, stored sealed, and never answered
 * back nor logged: only the bot's @username and its status are.
 */
export class BotRoutes {
  private readonly deps: BotRoutesDeps

  constructor(deps: BotRoutesDeps) {
    this.deps = deps
  }

  /** Any member of the space: is there a bot, which one, and how it stands with Telegram. */
  get = async (request: IncomingMessage, response: ServerResponse, space: string): Promise<void> => {
    await this.requireMember(request, space)
    const stored = await this.deps.spaceBots.get(space)
    const status = this.deps.bots.status(space)
    let body: SpaceBotView
    if (!stored && !status) body = { configured: false }
    else {
      body = {
        configured: true,
        username: stored?.username ?? status?.username ?? '',
        // The row is there but this instance has not applied it yet (the NOTIFY is on its way): starting.
        status: stored && status?.source !== 'stored' ? 'starting' : (status?.state ?? 'stopped'),
        ...(status?.error && (!stored || status.source === 'stored') ? { error: status.error } : {}),
      }
    }
    sendJson(response, 200, body)
  }

  /** Owner: `{token}` → checked with getMe, stored sealed; every instance (re)starts the space's bot. */
  put = async (request: IncomingMessage, response: ServerResponse, space: string): Promise<void> => {
    const owner = await this.requireOwner(request, space)
    const body = (await readJson(request, 4 * 1024)) as { token?: unknown } | null
    if (typeof body?.token !== 'string' || body.token.trim() === '') throw new HttpError(400, 'invalid-request', 'send {"token": "<the bot token from @BotFather>"}')
    let bot
    try {
      bot = await this.deps.spaceBots.set(space, body.token)
    } catch (error) {
      if (error instanceof InvalidBotToken) throw new HttpError(400, 'invalid-token', error.message)
      if (error instanceof BotInUse) throw new HttpError(409, 'bot-in-use', `${error.message}; create another bot with @BotFather for this space`)
      if (error instanceof TelegramRefused) throw new HttpError(400, 'telegram-refused', error.description)
      if (error instanceof TelegramUnreachable) throw new HttpError(502, 'telegram-unreachable', error.message)
      throw error
    }
    this.deps.log.info({ event: 'space-bot-set', space, username: bot.username, botId: bot.botId, by: owner.userId })
    const answer: SpaceBotSet = { username: bot.username }
    sendJson(response, 200, answer)
  }

  /** Owner: removes the space's bot; every instance stops it. 204 whether or not there was one. */
  delete = async (request: IncomingMessage, response: ServerResponse, space: string): Promise<void> => {
    const owner = await this.requireOwner(request, space)
    const removed = await this.deps.spaceBots.remove(space)
    if (removed) this.deps.log.info({ event: 'space-bot-removed', space, by: owner.userId })
    response.writeHead(204, { 'cache-control': 'no-store' })
    response.end()
  }

  /** Owners of the space only: unknown-space 404, forbidden-space / not-an-owner 403 (HttpApi maps AccessDenied). */
  private async requireOwner(request: IncomingMessage, space: string): Promise<Admin> {
    return (await this.deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')).principal
  }

  /** Any member of the space. */
  private async requireMember(request: IncomingMessage, space: string): Promise<Admin> {
    return (await this.deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')).principal
  }
}

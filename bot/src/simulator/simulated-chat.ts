import { callbackDataFor, type SimulatorAnswer } from '@botsync/shared-docs'
import { Context, Telegraf, type Telegram } from 'telegraf'
import type { Update } from 'telegraf/types'
import type { Logger } from '../logger.ts'
import { ScenarioRunner, type BotContext } from '../runner/scenario-runner.ts'
import { simulatedMediaSender } from './simulated-media.ts'
import type { SpaceView } from '../runner/space-view.ts'
import { newUserState, type Position, type UserState } from '../runner/user-state.ts'
import { RecordingTelegram } from './recording-telegram.ts'

/** Who the simulated bot says it is (no getMe: there is no Telegram to ask). */
const SIMULATED_BOT = { id: 1, first_name: 'Bot (simulator)', username: 'botsync_simulator_bot' }

export interface SimulatedChatOptions {
  /** The content the runner answers from (the space's replica; drafts or as the bot answers). */
  view: SpaceView
  log: Logger
  /** The simulated user (the admin); any positive id, it never reaches Telegram. */
  user: { id: number; first_name: string }
  /** Awaited before each update, like the real bot's read-your-writes catch-up. */
  beforeUpdate?: () => Promise<unknown>
}

/**
 * One admin's conversation with the bot in the admin's "Try it" panel. It
 * runs the real ScenarioRunner — the one interpreter — inside a real
 * Telegraf instance (middleware, contexts, callback answers), with only
 * what touches the outside replaced:
 *
 * - Telegram: a RecordingTelegram answers and records every call;
 * - the session: one in-memory UserState (one chat per simulated
 *   conversation), never the PostgreSQL session store;
 * - activity: discarded, so counters show only real users.
 *
 * Updates are handled one at a time, in order, as Telegram delivers a
 * chat's updates.
 */
export class SimulatedChat {
  private readonly bot: Telegraf<BotContext>
  private readonly telegram: RecordingTelegram
  private readonly runner: ScenarioRunner
  private readonly user: SimulatedChatOptions['user']
  private readonly beforeUpdate: SimulatedChatOptions['beforeUpdate']
  private state: UserState = newUserState()
  private nextUpdateId = 1
  private queue: Promise<unknown> = Promise.resolve()

  constructor(options: SimulatedChatOptions) {
    this.user = options.user
    this.beforeUpdate = options.beforeUpdate
    const telegram = (this.telegram = new RecordingTelegram(options.user.id, SIMULATED_BOT))
    // telegraf builds a new Telegram client per update; this context hands every handler the recorder instead.
    class RecordedContext extends Context {
      constructor(update: ConstructorParameters<typeof Context>[0], _telegram: Telegram, botInfo: ConstructorParameters<typeof Context>[2]) {
        super(update, telegram, botInfo)
      }
    }
    this.bot = new Telegraf<BotContext>('0:simulator', { contextType: RecordedContext as typeof Context })
    this.bot.telegram = telegram
    this.bot.botInfo = { ...SIMULATED_BOT, is_bot: true, can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false }
    this.bot.catch((error) => {
      throw error
    })
    this.bot.use(async (ctx, next) => {
      ctx.session = this.state
      try {
        await next()
      } finally {
        if (ctx.session) this.state = ctx.session
      }
    })
    this.runner = new ScenarioRunner({ view: options.view, activity: { record: () => {} }, log: options.log, media: simulatedMediaSender(options.log) })
    this.bot.use(this.runner.middleware())
  }

  /** Where the simulated user is now (tests, and the panel's "you are at"). */
  get position(): Position | null {
    return this.state.scenarioId !== null && this.state.stepId !== null ? { scenarioId: this.state.scenarioId, stepId: this.state.stepId } : null
  }

  /** The user sends a text (a command, an answer, a reply keyboard button's label). */
  message(text: string): Promise<SimulatorAnswer> {
    return this.run(() => {
      const message = { message_id: this.telegram.allocateMessageId(), date: nowSeconds(), chat: this.chat(), from: this.from(), text, ...commandEntity(text) }
      return this.bot.handleUpdate({ update_id: this.nextUpdateId++, message } as Update)
    })
  }

  /** The user presses an inline button of message `messageId` (by the button's id, or raw callback data). */
  press(messageId: number, press: { buttonId?: string; callbackData?: string }): Promise<SimulatorAnswer> {
    const data = press.buttonId !== undefined ? callbackDataFor(press.buttonId) : (press.callbackData ?? '')
    return this.run(() => {
      const update = {
        update_id: this.nextUpdateId++,
        callback_query: {
          id: `sim-${this.nextUpdateId}`,
          from: this.from(),
          chat_instance: `sim-${this.user.id}`,
          data,
          message: { message_id: messageId, date: nowSeconds(), chat: this.chat(), from: { ...SIMULATED_BOT, is_bot: true }, text: '' },
        },
      }
      return this.bot.handleUpdate(update as Update)
    })
  }

  /** "Start from this step": the user is placed on the step and sees it, as if a button had led there. */
  startAt(position: Position): Promise<SimulatorAnswer> {
    return this.run(async () => {
      const update = { update_id: this.nextUpdateId++, message: { message_id: 0, date: nowSeconds(), chat: this.chat(), from: this.from(), text: '' } } as Update
      const ctx = new Context(update, this.telegram, this.bot.botInfo!) as BotContext
      ctx.session = this.state
      await this.runner.showStep(ctx, position)
      if (ctx.session) this.state = ctx.session
    })
  }

  private run(handle: () => Promise<unknown>): Promise<SimulatorAnswer> {
    const result = this.queue.then(async () => {
      await this.beforeUpdate?.()
      this.telegram.take()
      await handle()
      return this.telegram.take()
    })
    this.queue = result.catch(() => {})
    return result
  }

  private chat() {
    return { id: this.user.id, type: 'private' as const, first_name: this.user.first_name }
  }

  private from() {
    return { id: this.user.id, is_bot: false, first_name: this.user.first_name }
  }
}

/** Telegram marks a leading /command with a bot_command entity. */
function commandEntity(text: string): { entities?: { type: 'bot_command'; offset: number; length: number }[] } {
  const match = /^\/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?/.exec(text)
  return match ? { entities: [{ type: 'bot_command', offset: 0, length: match[0].length }] } : {}
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

import { LIMITS, linkPreviewsEnabled, parseCallbackData, stepTitle, type ActivityEvent, type ButtonJson, type MessageEntity } from '@botsync/shared-docs'
import { TelegramError, type Context, type MiddlewareFn } from 'telegraf'
import type { Logger } from '../logger.ts'
import type { MediaSender, PreparedMedia } from '../media/media-sender.ts'
import { isNotModified, ThrottledTelegram } from '../telegram/throttled-telegram.ts'
import { validateAnswer } from './answer-validation.ts'
import { isInline, renderKeyboard, replyButtonByLabel, type Markup } from './keyboards.ts'
import { fillMessage } from './message-template.ts'
import type { SpaceContent } from './space-content.ts'
import type { SpaceView } from './space-view.ts'
import { HISTORY_LIMIT, normaliseUserState, type Position, type UserState } from './user-state.ts'

export type BotContext = Context & { session?: UserState }

type NewEvent = ActivityEvent extends infer E ? (E extends ActivityEvent ? Omit<E, 'at'> : never) : never

export interface ScenarioRunnerOptions {
  view: SpaceView
  activity: { record(event: NewEvent): void }
  log: Logger
  /** Sends steps' media (photos, albums …); without it a step with media is skipped like a broken one. */
  media?: MediaSender
  /** Called for a button whose action is `callback`, with its data. */
  onCallbackAction?: (data: string, ctx: BotContext) => void | Promise<void>
}

/** Steps without input or keyboard flow on to `next`; this bounds a cycle of them. */
const MAX_CHAINED_STEPS = 10

const COMMAND = /^\/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,32}))?(?:\s+([\s\S]*))?$/

/** How an answer reaches the chat: a new message, or an edit of the (text) message whose button was pressed. */
interface Target {
  editMessageId?: number
}

/** One message's text, its formatting (sent as entities, never parse_mode) and keyboard. */
interface Shown {
  text: string
  entities?: MessageEntity[]
  markup: Markup | undefined
}

/**
 * Builds a message from the content as it is when called. The runner hands
 * one to show(), which calls it again when the chat's send slot comes, so a
 * rate-limited answer carries the content current when it goes out.
 */
type Compose = (content: SpaceContent) => Shown

/**
 * The one interpreter of the schema. Every update reads the replica as it is
 * at that moment (SpaceView), so an admin's edit shows in the very next
 * answer. Per-user state ({scenarioId, stepId, vars, history}) lives in the
 * session. Content that fails validation is never sent: a broken button is
 * left out, a broken step cannot be reached, and whatever a user runs into
 * meanwhile (a step or button deleted under them) gets the fallback text and
 * a fresh keyboard instead of an error.
 */
export class ScenarioRunner {
  private readonly view: SpaceView
  private readonly activity: ScenarioRunnerOptions['activity']
  private readonly log: Logger
  private readonly onCallbackAction: ScenarioRunnerOptions['onCallbackAction']
  private readonly media: MediaSender | undefined

  constructor(options: ScenarioRunnerOptions) {
    this.media = options.media
    this.view = options.view
    this.activity = options.activity
    this.log = options.log
    this.onCallbackAction = options.onCallbackAction
  }

  middleware(): MiddlewareFn<BotContext> {
    return async (ctx, next) => {
      if (!ctx.chat || !ctx.from) return next()
      const state = normaliseUserState(ctx.session)
      try {
        if (ctx.callbackQuery) await this.onCallback(ctx, state)
        else if (ctx.message) await this.onMessage(ctx, state)
        else return next()
      } finally {
        // Saved even when sending failed, so the user's progress is not lost.
        ctx.session = state
      }
    }
  }

  /**
   * Shows a step and places the user there, as a `goto` button to it would
   * (the admin's "Start from this step" in the chat simulator). The session
   * is read from and written back to `ctx.session` like the middleware does.
   */
  async showStep(ctx: BotContext, position: Position): Promise<void> {
    const state = normaliseUserState(ctx.session)
    try {
      await this.enterScenario(ctx, state, position.scenarioId, position.stepId, {})
    } finally {
      ctx.session = state
    }
  }

  // ------------------------------------------------------------ updates

  private async onMessage(ctx: BotContext, state: UserState): Promise<void> {
    const content = this.view.current()
    if (!content.flag('botEnabled')) return this.maintenance(ctx)
    const message = ctx.message!
    const text = 'text' in message ? message.text : undefined
    if (text === undefined) {
      // A photo, sticker …: not an answer to anything.
      const step = this.currentStep(content, state)
      if (step?.input) return this.rejectAnswer(ctx, content, state)
      return this.fallback(ctx, state, {})
    }

    const command = COMMAND.exec(text)
    if (command) {
      const [, name, mention, payload] = command
      if (mention && ctx.botInfo && mention.toLowerCase() !== ctx.botInfo.username.toLowerCase()) return
      if (name.toLowerCase() === 'start') return this.start(ctx, state, payload?.trim() ?? '')
      const scenario = content.scenarioFor('command', name.toLowerCase())
      if (scenario) return this.enterScenario(ctx, state, scenario.id, undefined, {})
      return this.fallback(ctx, state, {})
    }

    const step = this.currentStep(content, state)
    if (step) {
      if (step.keyboard.kind === 'reply') {
        const button = replyButtonByLabel(content, step.keyboard.rows, text)
        if (button) return this.press(ctx, state, button, {})
      }
      if (step.input) return this.answer(ctx, content, state, text)
    }
    const scenario = content.scenarioFor('text', text)
    if (scenario) return this.enterScenario(ctx, state, scenario.id, undefined, {})
    if (state.scenarioId === null) {
      // Outside any scenario a main-menu button may be on a reply keyboard of an older message.
      const button = replyButtonByLabel(content, content.mainMenu(), text)
      if (button) return this.press(ctx, state, button, {})
    }
    return this.fallback(ctx, state, {})
  }

  private async onCallback(ctx: BotContext, state: UserState): Promise<void> {
    const query = ctx.callbackQuery!
    // Answered first and exactly once: it stops the button's spinner whatever follows.
    await ctx.answerCbQuery().catch((error: unknown) => this.log.debug({ event: 'callback-answer-failed', err: error }))
    const content = this.view.current()
    if (!content.flag('botEnabled')) return this.maintenance(ctx)
    // Only a text message can become another text (editMessageText refuses a
    // photo's caption); under a photo, an album's keyboard … the answer is a new message.
    const pressed = query.message
    const target: Target = { editMessageId: pressed && 'text' in pressed ? pressed.message_id : undefined }
    const buttonId = 'data' in query ? parseCallbackData(query.data) : null
    const button = buttonId === null ? null : content.button(buttonId)
    if (!button) {
      this.log.info({ event: 'stale-callback', data: 'data' in query ? query.data : undefined, chat: ctx.chat!.id })
      return this.fallback(ctx, state, target)
    }
    return this.press(ctx, state, button, target)
  }

  // ------------------------------------------------------------ actions

  private async start(ctx: BotContext, state: UserState, payload: string): Promise<void> {
    this.activity.record({ type: 'user_started' })
    const content = this.view.current()
    const scenario = payload === '' ? null : content.scenarioFor('deepLink', payload)
    state.history = []
    if (scenario) {
      state.scenarioId = null
      state.stepId = null
      return this.enterScenario(ctx, state, scenario.id, undefined, {})
    }
    return this.mainMenu(ctx, state, {})
  }

  private async press(ctx: BotContext, state: UserState, button: ButtonJson, target: Target): Promise<void> {
    this.activity.record({ type: 'button_pressed', buttonId: button.id })
    const action = button.action!
    switch (action.type) {
      case 'goto':
        return this.enterScenario(ctx, state, action.scenarioId, action.stepId, target)
      case 'back':
        return this.back(ctx, state, target)
      case 'end':
        return this.mainMenu(ctx, state, target)
      case 'callback':
        await this.onCallbackAction?.(action.data, ctx)
        return
      case 'url':
      case 'web_app':
        // Telegram opens these itself; nothing reaches the bot for them.
        return
    }
  }

  private async enterScenario(ctx: BotContext, state: UserState, scenarioId: string, stepId: string | undefined, target: Target): Promise<void> {
    const content = this.view.current()
    const entryStepId = content.scenario(scenarioId) ? content.entryStepId(scenarioId) : null
    const to = stepId ?? entryStepId
    if (to === null || to === undefined || !content.step(scenarioId, to)) {
      this.log.info({ event: 'scenario-unavailable', scenarioId, stepId, chat: ctx.chat!.id })
      return this.fallback(ctx, state, target)
    }
    if (state.scenarioId !== scenarioId || stepId === undefined) this.activity.record({ type: 'scenario_entered', scenarioId })
    return this.goTo(ctx, state, { scenarioId, stepId: to }, target, true)
  }

  /** Shows a step and moves the user there; steps with nothing to wait for flow on to `next`. */
  private async goTo(ctx: BotContext, state: UserState, position: Position, target: Target, remember: boolean): Promise<void> {
    let at = position
    let via = target
    let keepHistory = remember
    for (let hop = 0; ; hop++) {
      const content = this.view.current()
      const step = content.step(at.scenarioId, at.stepId)
      if (!step) return this.fallback(ctx, state, via)
      // Media is made ready (file_ids, or bytes from the server) before the
      // user moves: a step whose media cannot be sent is skipped like a broken one.
      let media: PreparedMedia | undefined
      if (step.media) {
        const prepared = this.media ? await this.media.prepare(ctx.botInfo.id, at, step.media, (id) => content.mediaInfo(id)) : null
        if (!prepared) {
          if (!this.media) this.log.warn({ event: 'step-media-unsupported', ...at }, 'this runner has no media sender; the step is skipped')
          return this.fallback(ctx, state, via)
        }
        media = prepared
      }
      const moved = state.scenarioId !== at.scenarioId || state.stepId !== at.stepId
      if (keepHistory && moved && state.scenarioId !== null && state.stepId !== null) {
        state.history.push({ scenarioId: state.scenarioId, stepId: state.stepId })
        if (state.history.length > HISTORY_LIMIT) state.history.splice(0, state.history.length - HISTORY_LIMIT)
      }
      state.scenarioId = at.scenarioId
      state.stepId = at.stepId
      this.activity.record({ type: 'step_reached', scenarioId: at.scenarioId, stepId: at.stepId, stepTitle: stepTitle(step) })
      const markup = renderKeyboard(content, step.keyboard.rows, step.keyboard.kind)
      const here = at
      await this.show(
        ctx,
        (now) => {
          // The step as it is at send time; if it was deleted meanwhile, what it
          // was, keyboard included: one message, one content (one release).
          const current = now.step(here.scenarioId, here.stepId)
          const [from, shown] = current ? [now, current] : [content, step]
          const limit = media ? LIMITS.caption : LIMITS.messageText
          return { ...fillMessage(shown.message, shown.entities, state.vars, limit), markup: renderKeyboard(from, shown.keyboard.rows, shown.keyboard.kind) }
        },
        via,
        media,
      )
      if (step.input || markup || step.next === null) return
      if (hop + 1 >= MAX_CHAINED_STEPS) {
        this.log.warn({ event: 'step-chain-too-long', scenarioId: at.scenarioId, stepId: at.stepId }, 'stopped following `next` of steps without input or keyboard')
        return
      }
      // The chain's steps are passed through, so `back` skips them.
      at = { scenarioId: at.scenarioId, stepId: step.next }
      via = {}
      keepHistory = false
    }
  }

  private async back(ctx: BotContext, state: UserState, target: Target): Promise<void> {
    const content = this.view.current()
    while (state.history.length > 0) {
      const previous = state.history.pop()!
      if (content.step(previous.scenarioId, previous.stepId)) return this.goTo(ctx, state, previous, target, false)
    }
    return this.mainMenu(ctx, state, target)
  }

  private async answer(ctx: BotContext, content: SpaceContent, state: UserState, text: string): Promise<void> {
    const step = this.currentStep(content, state)!
    const value = validateAnswer(step.input!.kind, text)
    if (value === null) return this.rejectAnswer(ctx, content, state)
    state.vars[step.input!.var] = value
    if (step.next === null) return this.mainMenu(ctx, state, {})
    return this.goTo(ctx, state, { scenarioId: state.scenarioId!, stepId: step.next }, {}, true)
  }

  private async rejectAnswer(ctx: BotContext, content: SpaceContent, state: UserState): Promise<void> {
    const step = this.currentStep(content, state)
    this.activity.record({ type: 'input_rejected', scenarioId: state.scenarioId!, stepId: state.stepId!, ...(step ? { stepTitle: stepTitle(step) } : {}) })
    await this.show(ctx, (now) => ({ ...now.formattedText('inputInvalid'), markup: undefined }), {})
  }

  /** The welcome text and the main menu; the user is outside any scenario. */
  private async mainMenu(ctx: BotContext, state: UserState, target: Target): Promise<void> {
    state.scenarioId = null
    state.stepId = null
    state.history = []
    await this.show(ctx, (now) => ({ ...now.formattedText('welcome'), markup: renderKeyboard(now, now.mainMenu(), 'inline') }), target)
  }

  /**
   * The polite answer to anything the bot cannot act on: the fallback text
   * with a fresh keyboard — the current step's, if it still exists, else the
   * main menu (and the user leaves a step that is gone).
   */
  private async fallback(ctx: BotContext, state: UserState, target: Target): Promise<void> {
    const content = this.view.current()
    const step = this.currentStep(content, state)
    let markup: Markup | undefined
    if (step) markup = renderKeyboard(content, step.keyboard.rows, step.keyboard.kind)
    if (!step) {
      state.scenarioId = null
      state.stepId = null
      state.history = []
    }
    const useMainMenu = !markup && !step?.input
    const position = step ? { scenarioId: state.scenarioId!, stepId: state.stepId! } : null
    await this.show(
      ctx,
      (now) => {
        // The step's keyboard as it is at send time; if the step was deleted
        // meanwhile, the whole message from the content it was found in.
        const current = position ? now.step(position.scenarioId, position.stepId) : null
        const from = position && !current ? content : now
        const shown = current ?? step
        const keyboard = shown ? renderKeyboard(from, shown.keyboard.rows, shown.keyboard.kind) : undefined
        return { ...from.formattedText('fallback'), markup: useMainMenu ? renderKeyboard(from, from.mainMenu(), 'inline') : keyboard }
      },
      target,
    )
  }

  private async maintenance(ctx: BotContext): Promise<void> {
    await this.show(ctx, (now) => ({ ...now.formattedText('maintenance'), markup: undefined }), {})
  }

  private currentStep(content: SpaceContent, state: UserState) {
    if (state.scenarioId === null || state.stepId === null) return null
    return content.step(state.scenarioId, state.stepId)
  }

  // ------------------------------------------------------------ sending

  /**
   * Edits the message whose button was pressed when the answer fits in it
   * (inline keyboard or none), else sends a new message. An edit that changes
   * nothing is fine; an edit Telegram refuses (message too old, deleted)
   * becomes a new message. The message is composed when its send slot
   * comes (see Compose); the first composition only decides edit or send.
   */
  private async show(ctx: BotContext, compose: Compose, target: Target, media?: PreparedMedia): Promise<void> {
    const chatId = ctx.chat!.id
    const now = (): Shown => compose(this.view.current())
    if (media && this.media) {
      // Always a new message: a text cannot be edited into a photo. The caption and keyboard are composed at the send slot.
      const sent = await this.media.send(ctx, media, () => {
        const { text, entities, markup } = now()
        return { caption: text, entities: entities ?? [], markup }
      })
      if (sent) return
      // Telegram refused the media itself (logged once): the user still gets an answer.
      return this.show(ctx, (content) => ({ ...content.formattedText('fallback'), markup: compose(content).markup }), {})
    }
    if (target.editMessageId !== undefined && isInline(now().markup)) {
      const messageId = target.editMessageId
      try {
        await this.call(ctx, 'editMessageText', chatId, () => {
          const { text, entities, markup } = now()
          return {
            chat_id: chatId,
            message_id: messageId,
            text,
            ...withEntities(entities),
            ...this.linkPreview(),
            ...(markup && isInline(markup) ? { reply_markup: markup } : {}),
          }
        })
        return
      } catch (error) {
        if (isNotModified(error)) return
        if (!(error instanceof TelegramError) || error.code !== 400) throw error
        this.log.debug({ event: 'edit-replaced-by-send', chat: chatId, description: error.description })
      }
    }
    await this.call(ctx, 'sendMessage', chatId, () => {
      const { text, entities, markup } = now()
      return { chat_id: chatId, text, ...withEntities(entities), ...this.linkPreview(), ...(markup ? { reply_markup: markup } : {}) }
    })
  }

  /** The space's `linkPreviews` switch (on by default, as in Telegram): off asks Telegram to draw no link preview. */
  private linkPreview(): { link_preview_options?: { is_disabled: true } } {
    return linkPreviewsEnabled(this.view.current().space.settings.flags) ? {} : { link_preview_options: { is_disabled: true } }
  }

  /** Through the throttled client when the context has it (composed at the send slot), else composed now. */
  private call<M extends 'sendMessage' | 'editMessageText'>(ctx: BotContext, method: M, chatId: number, compose: () => Record<string, unknown>): Promise<unknown> {
    const telegram = ctx.telegram
    if (telegram instanceof ThrottledTelegram) return telegram.callComposed(method, chatId, compose as never)
    return telegram.callApi(method, compose() as never)
  }
}

/** `entities` when there are any: a plain message goes exactly as before. */
function withEntities(entities: MessageEntity[] | undefined): { entities?: MessageEntity[] } {
  return entities && entities.length > 0 ? { entities } : {}
}

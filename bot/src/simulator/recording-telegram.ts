import { LIMITS, MEDIA_KINDS, type MediaKind, type MessageEntity, type SimulatedMarkup, type SimulatedMessage, type SimulatorAnswer } from '@botsync/shared-docs'
import { Telegram, TelegramError } from 'telegraf'
import type { Opts, Telegram as Methods } from 'telegraf/types'
import { NOT_MODIFIED } from '../telegram/throttled-telegram.ts'

type CallApiOptions = Parameters<Telegram['callApi']>[2]

/** The send methods of one media item, by the kind they send. */
const MEDIA_METHODS: Readonly<Record<string, MediaKind>> = Object.freeze(Object.fromEntries(MEDIA_KINDS.map((kind) => [`send${kind[0].toUpperCase()}${kind.slice(1)}`, kind])))

/** Methods the simulated chat answers without recording anything. */
const QUIET_METHODS = new Set(['sendChatAction', 'setMyCommands', 'setChatMenuButton'])

interface Kept {
  text: string
  entities: MessageEntity[]
  markup: string
  /** A media message keeps a caption, not a text (editMessageText refuses it, as Telegram does). */
  hasText: boolean
}

/**
 * The chat simulator's stand-in for Telegram: a `Telegram` client whose every
 * call is answered here and recorded, so nothing reaches Telegram (there is
 * no token to reach it with). Answers have Telegram's shapes — a Message
 * with increasing message_ids, `true` for answerCallbackQuery, a 400
 * TelegramError where Telegram refuses (an edit of an unknown message, an
 * edit that changes nothing) — so the runner takes the same paths it takes
 * against the real API. A subclass rather than a fake server: the runner
 * calls `ctx.telegram.callApi`, and overriding exactly that keeps every
 * runner line in play while skipping only the network.
 */
export class RecordingTelegram extends Telegram {
  private readonly chatId: number
  private readonly botUser: { id: number; is_bot: true; first_name: string; username: string }
  private readonly kept = new Map<number, Kept>()
  private nextMessageId = 1
  private answer: SimulatorAnswer = { sent: [], edited: [] }

  constructor(chatId: number, botUser: { id: number; first_name: string; username: string }) {
    // A token that names no bot: with callApi overridden nothing is ever sent with it.
    super('0:simulator', {})
    this.chatId = chatId
    this.botUser = { ...botUser, is_bot: true }
  }

  /** What the calls since the last take() did; starts a new record. */
  take(): SimulatorAnswer {
    const answer = this.answer
    this.answer = { sent: [], edited: [] }
    return answer
  }

  /** A message id the user's own message gets (ids are shared by the chat, as in Telegram). */
  allocateMessageId(): number {
    return this.nextMessageId++
  }

  override callApi<M extends keyof Methods>(method: M, payload: Opts<M>, _options?: CallApiOptions): Promise<ReturnType<Methods[M]>> {
    return Promise.resolve().then(() => this.handle(method, payload as unknown as Record<string, unknown>) as ReturnType<Methods[M]>)
  }

  private handle(method: string, payload: Record<string, unknown>): unknown {
    if (method === 'answerCallbackQuery') {
      this.answer.answeredCallback = true
      return true
    }
    if (method === 'getMe') return this.botUser
    if (QUIET_METHODS.has(method)) return true
    if (method === 'sendMessage') return this.send(method, payload, String(payload.text ?? ''), entitiesOf(payload.entities), undefined)
    if (method === 'editMessageText') return this.edit(payload)
    if (method === 'sendMediaGroup') return this.sendAlbum(payload)
    const kind = MEDIA_METHODS[method]
    if (kind) return this.send(method, payload, String(payload.caption ?? ''), entitiesOf(payload.caption_entities), [{ kind, ...mediaIdOf(payload[kind]) }])
    // Anything else the runner may call one day is recorded-free and answered plainly.
    return true
  }

  private send(method: string, payload: Record<string, unknown>, text: string, entities: MessageEntity[], media: SimulatedMessage['media']): unknown {
    if (!media && text.trim() === '') throw refusal(method, payload, 'Bad Request: message text is empty')
    if (!media && text.length > LIMITS.messageText) throw refusal(method, payload, 'Bad Request: message is too long')
    const messageId = this.allocateMessageId()
    const markup = payload.reply_markup as SimulatedMarkup | undefined
    this.kept.set(messageId, { text, entities, markup: JSON.stringify(markup ?? null), hasText: !media })
    this.answer.sent.push(simulated(messageId, method, payload, text, entities, media, markup))
    return this.message(messageId, media ? { caption: text } : { text })
  }

  private sendAlbum(payload: Record<string, unknown>): unknown {
    const items = Array.isArray(payload.media) ? (payload.media as Record<string, unknown>[]) : []
    return items.map((item, index) => {
      const kind = (MEDIA_KINDS as readonly string[]).includes(String(item.type)) ? (item.type as MediaKind) : 'photo'
      const text = index === 0 ? String(item.caption ?? '') : ''
      const entities = index === 0 ? entitiesOf(item.caption_entities) : []
      return this.send('sendMediaGroup', payload, text, entities, [{ kind, ...mediaIdOf(item.media) }])
    })
  }

  private edit(payload: Record<string, unknown>): unknown {
    const messageId = Number(payload.message_id)
    const kept = this.kept.get(messageId)
    if (!kept) throw refusal('editMessageText', payload, 'Bad Request: message to edit not found')
    if (!kept.hasText) throw refusal('editMessageText', payload, 'Bad Request: there is no text in the message to edit')
    const text = String(payload.text ?? '')
    const entities = entitiesOf(payload.entities)
    const markup = payload.reply_markup as SimulatedMarkup | undefined
    const same = text === kept.text && JSON.stringify(entities) === JSON.stringify(kept.entities) && JSON.stringify(markup ?? null) === kept.markup
    if (same)
      throw refusal(
        'editMessageText',
        payload,
        `Bad Request: ${NOT_MODIFIED}: specified new message content and reply markup are exactly the same as a current content and reply markup of the message`,
      )
    this.kept.set(messageId, { text, entities, markup: JSON.stringify(markup ?? null), hasText: true })
    this.answer.edited.push(simulated(messageId, 'editMessageText', payload, text, entities, undefined, markup))
    return { ...this.message(messageId, { text }), edit_date: nowSeconds() }
  }

  private message(messageId: number, content: { text: string } | { caption: string }): Record<string, unknown> {
    return { message_id: messageId, from: this.botUser, chat: { id: this.chatId, type: 'private', first_name: 'Admin' }, date: nowSeconds(), ...content }
  }
}

function simulated(
  messageId: number,
  method: string,
  payload: Record<string, unknown>,
  text: string,
  entities: MessageEntity[],
  media: SimulatedMessage['media'],
  markup: SimulatedMarkup | undefined,
): SimulatedMessage {
  const preview = payload.link_preview_options as { is_disabled?: boolean } | undefined
  return {
    messageId,
    method,
    text,
    entities,
    ...(media ? { media } : {}),
    ...(markup ? { replyMarkup: structuredClone(markup) } : {}),
    linkPreview: preview?.is_disabled !== true,
  }
}

function entitiesOf(value: unknown): MessageEntity[] {
  return Array.isArray(value) ? (structuredClone(value) as MessageEntity[]) : []
}

/** The media id when the runner names the file by a string (a file_id or the store's id); an upload has none to show. */
function mediaIdOf(value: unknown): { id?: string } {
  return typeof value === 'string' ? { id: value } : {}
}

function refusal(method: string, payload: Record<string, unknown>, description: string): TelegramError {
  return new TelegramError({ error_code: 400, description }, { method, payload })
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

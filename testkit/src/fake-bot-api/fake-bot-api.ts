// A local fake of the Telegram Bot API for tests: real paths (/bot<token>/<method>),
// real response shapes and error texts, long-polling getUpdates, per-chat message
// state so edits behave like Telegram's, call recording and helpers that simulate
// users and await what the bot does. Point telegraf at it with
// `new Telegraf(token, { telegram: { apiRoot: api.apiRoot } })`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiFailure } from './api-failure.ts'
import { FakeFileStore, type ResolvedFile } from './fake-files.ts'
import { formatText } from './formatting.ts'
import { sameMarkup, validateReplyMarkup } from './reply-markup.ts'
import { boolParam, intParam, parseParams, readBody, stringParam } from './request-params.ts'
import type {
  ApiErrorBody,
  ApiResponse,
  BotCommand,
  BotUser,
  CallbackQuery,
  Chat,
  ClickOptions,
  FakeBotApiOptions,
  FileKind,
  InlineKeyboardMarkup,
  MenuButton,
  Message,
  MessageEntity,
  MessageWaitOptions,
  RecordedCall,
  RecordedFile,
  SimUser,
  Update,
  User,
  WaitForCallOptions,
  WebhookDelivery,
  WaitOptions,
} from './types.ts'

const DEFAULT_TIMEOUT_MS = 5000
const MAX_TEXT_LENGTH = 4096
const MAX_CAPTION_LENGTH = 1024
const MAX_ALBUM_ITEMS = 10
const NOT_MODIFIED = 'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message'
const QUERY_INVALID = 'query is too old and response timeout expired or query ID is invalid'
const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
])
/** Update types Telegram delivers when allowed_updates is empty / never given. */
const DEFAULT_EXCLUDED_UPDATES = new Set(['chat_member', 'message_reaction', 'message_reaction_count'])
/** The methods that send one file, and the kind of file each sends (its parameter has the kind's name). */
const MEDIA_METHODS: Record<string, FileKind> = {
  sendPhoto: 'photo',
  sendVideo: 'video',
  sendAnimation: 'animation',
  sendAudio: 'audio',
  sendVoice: 'voice',
  sendDocument: 'document',
}
/** InputMedia types sendMediaGroup takes. */
const ALBUM_TYPES = new Set<FileKind>(['photo', 'video', 'audio', 'document'])
const MESSAGE_METHODS = new Set(['sendMessage', 'editMessageText', 'editMessageReplyMarkup', 'sendMediaGroup', ...Object.keys(MEDIA_METHODS)])
/** What nextMessageTo waits for: whatever puts a message of the bot into a chat or changes its text. */
const CHAT_MESSAGE_METHODS = new Set(['sendMessage', 'editMessageText', 'sendMediaGroup', ...Object.keys(MEDIA_METHODS)])

interface ChatState {
  chat: Chat
  user: User
  nextMessageId: number
  messages: Map<number, Message>
  blocked: boolean
}

interface PendingPoll {
  limit: number
  res: ServerResponse
  deliver: (updates: Update[]) => void
  fail: (failure: ApiFailure) => void
  abort: () => void
}

interface CallWaiter {
  match: (call: RecordedCall) => boolean
  resolve: (call: RecordedCall) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
  description: string
}

interface CallContext {
  res: ServerResponse
  /** The files the call carried, recorded with it. */
  files: RecordedFile[]
}

type Handler = (params: Record<string, unknown>, ctx: CallContext) => unknown

/** Resolves a getUpdates promise whose client went away; nothing is sent or recorded. */
const ABORTED = Symbol('aborted')

export class FakeBotApi {
  readonly token: string
  readonly botUser: BotUser
  /** Every request to /bot<…>/<method>, in the order the responses were sent. */
  readonly calls: RecordedCall[] = []

  private readonly allowUnknownChats: boolean
  private readonly handlers: Record<string, Handler>
  private readonly methodNames = new Map<string, string>()
  private readonly chats = new Map<number, ChatState>()
  private readonly files: FakeFileStore
  private nextMediaGroupId = 13_000_000_000_000_001n
  private readonly failures = new Map<string, ApiErrorBody[]>()
  private readonly waiters = new Set<CallWaiter>()
  private readonly polls = new Set<PendingPoll>()
  private readonly callbackQueries = new Map<string, { answered: boolean; update: Update }>()
  private readonly commands = new Map<string, BotCommand[]>()
  private readonly menuButtons = new Map<number, MenuButton>()
  private defaultMenuButton: MenuButton = { type: 'commands' }
  private queue: Update[] = []
  private allowedUpdates: string[] = []
  private nextUpdateId = 100_000_001
  private nextCallbackId = 1
  private webhookUrl = ''
  private webhookSecret = ''
  private webhookMaxConnections = 40
  private webhookOrigins: string[] = []
  private nextWebhookOrigin = 0
  /** update_id → failed attempts so far, for updates being delivered or waiting for a retry. */
  private readonly webhookBusy = new Map<number, number>()
  private readonly webhookRetries = new Set<NodeJS.Timeout>()
  private lastWebhookError: { date: number; message: string } | undefined
  private readonly webhookRetryBaseMs: number
  /** Every webhook delivery attempt, in the order they finished. */
  readonly webhookDeliveries: WebhookDelivery[] = []
  private server: Server | undefined
  private root: string | undefined
  private stopping = false
  /** Set by revoke(): every request with this token answers 401 Unauthorized, as after /revoke in @BotFather. */
  private revoked = false

  constructor(options: FakeBotApiOptions) {
    this.token = options.token
    this.allowUnknownChats = options.allowUnknownChats ?? false
    this.webhookRetryBaseMs = options.webhookRetryBaseMs ?? 200
    const idFromToken = /^(\d+):/.exec(options.token)?.[1]
    this.botUser = {
      id: idFromToken ? Number(idFromToken) : 7_000_000_001,
      is_bot: true,
      first_name: options.botFirstName ?? 'Botsync Test',
      username: options.botUsername ?? 'botsync_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    }
    this.files = new FakeFileStore(this.botUser.id)
    this.handlers = {
      getMe: () => ({ ...this.botUser }),
      getUpdates: (p, ctx) => this.getUpdates(p, ctx),
      sendMessage: (p) => this.sendMessage(p),
      editMessageText: (p) => this.editMessageText(p),
      ...Object.fromEntries(Object.entries(MEDIA_METHODS).map(([name, kind]): [string, Handler] => [name, (p, ctx) => this.sendMedia(kind, p, ctx)])),
      sendMediaGroup: (p, ctx) => this.sendMediaGroup(p, ctx),
      editMessageReplyMarkup: (p) => this.editMessageReplyMarkup(p),
      deleteMessage: (p) => this.deleteMessage(p),
      answerCallbackQuery: (p) => this.answerCallbackQuery(p),
      sendChatAction: (p) => this.sendChatAction(p),
      getChat: (p) => ({ ...this.requireChat(p['chat_id'], false).chat }),
      setMyCommands: (p) => this.setMyCommands(p),
      getMyCommands: (p) => structuredClone(this.commands.get(commandsKey(p)) ?? []),
      deleteMyCommands: (p) => (this.commands.delete(commandsKey(p)), true),
      setChatMenuButton: (p) => this.setChatMenuButton(p),
      getChatMenuButton: (p) => this.getChatMenuButton(p),
      deleteWebhook: (p) => this.deleteWebhook(p),
      setWebhook: (p) => this.setWebhook(p),
      getWebhookInfo: () => this.getWebhookInfo(),
      logOut: () => true,
      close: () => true,
    }
    for (const name of Object.keys(this.handlers)) this.methodNames.set(name.toLowerCase(), name)
  }

  // ------------------------------------------------------------ lifecycle

  /** Listens on 127.0.0.1 on a random port. */
  async start(): Promise<void> {
    if (this.server) throw new Error('FakeBotApi: already started')
    this.stopping = false
    const server = createServer((req, res) => {
      this.handleRequest(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.writeJson(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${String(error)}` })
      })
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const { port } = server.address() as AddressInfo
    this.root = `http://127.0.0.1:${port}`
  }

  /** Answers pending long polls with [], rejects pending waits, closes every connection. */
  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.stopping = true
    for (const timer of this.webhookRetries) clearTimeout(timer)
    this.webhookRetries.clear()
    for (const poll of [...this.polls]) poll.deliver([])
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter)
      clearTimeout(waiter.timer)
      waiter.reject(new Error(`FakeBotApi: stopped while waiting for ${waiter.description}`))
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
      setImmediate(() => server.closeAllConnections())
    })
    this.server = undefined
  }

  /**
   * The token is revoked (as with @BotFather's /revoke): from now on every
   * request with it answers 401 Unauthorized, and long polls waiting now end
   * with that 401.
   */
  revoke(): void {
    this.revoked = true
    for (const poll of [...this.polls]) poll.fail(new ApiFailure(401, 'Unauthorized'))
  }

  /** Served by a FakeTelegram (several bots on one root) instead of a server of its own. */
  attach(root: string): void {
    if (this.server) throw new Error('FakeBotApi: started on its own; attach only bots that a FakeTelegram serves')
    this.root = root
  }

  /** For a FakeTelegram: answers one request to /bot<token>/<method>. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.handleRequest(req, res)
  }

  /** For a FakeTelegram stopping: ends pending polls and waits. */
  detach(): void {
    this.stopping = true
    for (const timer of this.webhookRetries) clearTimeout(timer)
    this.webhookRetries.clear()
    for (const poll of [...this.polls]) poll.deliver([])
  }

  /** `http://127.0.0.1:PORT` — telegraf's `telegram.apiRoot`. */
  get apiRoot(): string {
    if (!this.root) throw new Error('FakeBotApi: not started (await api.start() first)')
    return this.root
  }

  // ------------------------------------------------------------ recording & waiting

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method)
  }

  /** The current number of recorded calls; pass it as `since` to waitForCall / nextMessageTo. */
  mark(): number {
    return this.calls.length
  }

  clearCalls(): void {
    this.calls.length = 0
  }

  /**
   * Makes the next `times` calls of `method` fail with this body (HTTP status = error_code),
   * e.g. `{ error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } }`.
   */
  failNext(method: string, error: Omit<ApiErrorBody, 'ok'>, times = 1): void {
    const name = this.methodNames.get(method.toLowerCase()) ?? method
    const list = this.failures.get(name) ?? []
    for (let i = 0; i < times; i++) {
      const body: ApiErrorBody = { ok: false, error_code: error.error_code, description: error.description }
      if (error.parameters) body.parameters = { ...error.parameters }
      list.push(body)
    }
    this.failures.set(name, list)
  }

  /** The next call recorded after this moment that matches method (one name or several) and predicate. */
  nextCall(method?: string | string[], options: WaitOptions = {}): Promise<RecordedCall> {
    const methods = method === undefined ? undefined : new Set(Array.isArray(method) ? method : [method])
    const { predicate } = options
    const describe = methods ? `a ${[...methods].join('/')} call` : 'any call'
    return this.wait(
      (c) => (!methods || methods.has(c.method)) && (!predicate || predicate(c)),
      this.calls.length,
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      predicate ? `${describe} matching the predicate` : describe,
    )
  }

  /** Like nextCall, but calls already recorded at index >= `since` (default 0) count too. */
  waitForCall(predicate: (call: RecordedCall) => boolean, options: WaitForCallOptions = {}): Promise<RecordedCall> {
    const methods = options.method === undefined ? undefined : new Set(Array.isArray(options.method) ? options.method : [options.method])
    return this.wait(
      (c) => (!methods || methods.has(c.method)) && predicate(c),
      options.since ?? 0,
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      `${methods ? `a ${[...methods].join('/')} call` : 'a call'} matching the predicate (since call #${options.since ?? 0})`,
    )
  }

  /**
   * The next successful sendMessage/editMessageText call to `chatId`, or a media send (sendPhoto …,
   * sendMediaGroup) — its `message` field is the resulting Message (an album's first). With `since`,
   * calls already recorded from that index count too.
   */
  nextMessageTo(chatId: number | string, options: MessageWaitOptions & { since?: number } = {}): Promise<RecordedCall> {
    const { predicate, includeFailed = false } = options
    const target = String(chatId)
    return this.wait(
      (c) => CHAT_MESSAGE_METHODS.has(c.method) && String(c.params['chat_id']) === target && (includeFailed || c.response.ok) && (!predicate || predicate(c)),
      options.since ?? this.calls.length,
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      `a ${includeFailed ? '' : 'successful '}sendMessage/editMessageText call to chat ${target}${predicate ? ' matching the predicate' : ''}`,
    )
  }

  private wait(match: (c: RecordedCall) => boolean, since: number, timeoutMs: number, description: string): Promise<RecordedCall> {
    const existing = this.calls.slice(since).find(match)
    if (existing) return Promise.resolve(existing)
    // Created here so the stack trace points at the awaiting test line.
    const error = new Error(description)
    return new Promise<RecordedCall>((resolve, reject) => {
      const waiter: CallWaiter = {
        match,
        resolve,
        reject,
        description,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          error.message = `FakeBotApi: timed out after ${timeoutMs}ms waiting for ${description}. ${this.describeRecentCalls()}`
          reject(error)
        }, timeoutMs),
      }
      this.waiters.add(waiter)
    })
  }

  private describeRecentCalls(count = 8): string {
    const relevant = this.calls.filter((c) => c.method !== 'getUpdates')
    const polls = this.calls.length - relevant.length
    const pollNote = `${polls} getUpdates poll${polls === 1 ? '' : 's'} omitted`
    if (relevant.length === 0) return `No calls seen besides getUpdates (${pollNote}).`
    const lines = relevant.slice(-count).map((c) => `  - ${summarizeCall(c)}`)
    return `Last ${lines.length} of ${relevant.length} calls (${pollNote}):\n${lines.join('\n')}`
  }

  private record(call: RecordedCall): void {
    this.calls.push(call)
    for (const waiter of [...this.waiters]) {
      let matched: boolean
      try {
        matched = waiter.match(call)
      } catch (error) {
        this.waiters.delete(waiter)
        clearTimeout(waiter.timer)
        waiter.reject(error instanceof Error ? error : new Error(String(error)))
        continue
      }
      if (matched) {
        this.waiters.delete(waiter)
        clearTimeout(waiter.timer)
        waiter.resolve(call)
      }
    }
  }

  // ------------------------------------------------------------ state inspection & setup

  /** Registers a user (and their private chat) without sending an update. */
  addUser(user: SimUser): Chat {
    return { ...this.chatStateFor(user).chat }
  }

  /** Subsequent sends to this user fail with 403 "Forbidden: bot was blocked by the user". */
  blockUser(userId: number): void {
    const state = this.chats.get(userId)
    if (!state) throw new Error(`FakeBotApi.blockUser: unknown user ${userId}`)
    state.blocked = true
  }

  unblockUser(userId: number): void {
    const state = this.chats.get(userId)
    if (state) state.blocked = false
  }

  /** The chat's messages (user's and bot's) as they are now, oldest first. */
  messagesIn(chatId: number): Message[] {
    const state = this.chats.get(chatId)
    if (!state) return []
    return [...state.messages.values()].sort((a, b) => a.message_id - b.message_id).map((m) => structuredClone(m))
  }

  getMessage(chatId: number, messageId: number): Message | undefined {
    const m = this.chats.get(chatId)?.messages.get(messageId)
    return m ? structuredClone(m) : undefined
  }

  /** The bot's most recent still-existing message in the chat. */
  lastBotMessage(chatId: number): Message | undefined {
    return this.messagesIn(chatId)
      .filter((m) => m.from.id === this.botUser.id)
      .at(-1)
  }

  /** Updates enqueued but not yet confirmed by a getUpdates offset. */
  get pendingUpdateCount(): number {
    return this.queue.length
  }

  /** Ids of callback queries the bot has not answered with answerCallbackQuery. */
  unansweredCallbackQueries(): string[] {
    return [...this.callbackQueries].filter(([, q]) => !q.answered).map(([id]) => id)
  }

  // ------------------------------------------------------------ user simulation

  /** The user sends a text message; `/command…` gets a bot_command entity. */
  sendText(user: SimUser, text: string): Update {
    if (text.trim() === '') throw new Error('FakeBotApi.sendText: a user cannot send an empty message')
    const state = this.chatStateFor(user)
    const message: Message = {
      message_id: state.nextMessageId++,
      from: { ...state.user },
      chat: { ...state.chat },
      date: nowSeconds(),
      text,
    }
    const command = /^\/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?/.exec(text)
    if (command) message.entities = [{ type: 'bot_command', offset: 0, length: command[0].length }]
    state.messages.set(message.message_id, message)
    return this.enqueue({ message: structuredClone(message) })
  }

  /** `/command payload` (payload optional) — e.g. sendCommand(u, 'start', 'abc') for a deep link. */
  sendCommand(user: SimUser, command: string, payload?: string): Update {
    const name = command.startsWith('/') ? command.slice(1) : command
    return this.sendText(user, payload === undefined || payload === '' ? `/${name}` : `/${name} ${payload}`)
  }

  /**
   * The user presses the inline button with `callbackData` under `message` (a Message, a
   * recorded send/edit call, or a message_id in the user's chat). The update carries the
   * message as currently stored (i.e. after edits). Throws if the message is gone or no
   * longer shows such a button, unless `force`.
   */
  clickButton(user: SimUser, message: Message | RecordedCall | number, callbackData: string, options: ClickOptions = {}): Update {
    const state = this.chatStateFor(user)
    let given: Message | undefined
    let messageId: number
    let chatId = state.chat.id
    if (typeof message === 'number') messageId = message
    else if ('message_id' in message) {
      given = message
      messageId = message.message_id
      chatId = message.chat.id
    } else if (message.message) {
      given = message.message
      messageId = given.message_id
      chatId = given.chat.id
    } else throw new Error(`FakeBotApi.clickButton: recorded ${message.method} call has no resulting message`)
    const stored = this.chats.get(chatId)?.messages.get(messageId)
    const current = stored ?? (options.force ? given : undefined)
    if (!current) throw new Error(`FakeBotApi.clickButton: message ${messageId} in chat ${chatId} does not exist (deleted?)`)
    if (!options.force) {
      const buttons = current.reply_markup?.inline_keyboard.flat() ?? []
      if (!buttons.some((b) => b.callback_data === callbackData)) {
        const shown = buttons.map((b) => `${JSON.stringify(b.text)}→${JSON.stringify(b.callback_data)}`).join(', ')
        throw new Error(
          `FakeBotApi.clickButton: message ${messageId} in chat ${chatId} has no button with callback_data ${JSON.stringify(callbackData)} (buttons: ${shown || 'none'}); pass { force: true } to click anyway`,
        )
      }
    }
    const id = (6_000_000_000_000_000n + BigInt(this.nextCallbackId++)).toString()
    const query: CallbackQuery = {
      id,
      from: { ...state.user },
      message: structuredClone(current),
      chat_instance: (-(4_000_000_000_000_000n + BigInt(chatId))).toString(),
      data: callbackData,
    }
    const update = this.enqueue({ callback_query: query })
    this.callbackQueries.set(id, { answered: false, update })
    return update
  }

  /** Presses the callback button whose text is `buttonText` under `message`. */
  clickButtonByText(user: SimUser, message: Message | RecordedCall | number, buttonText: string): Update {
    const state = this.chatStateFor(user)
    const msg = typeof message === 'number' ? state.messages.get(message) : 'message_id' in message ? message : message.message
    const stored = msg ? this.chats.get(msg.chat.id)?.messages.get(msg.message_id) : undefined
    const button = stored?.reply_markup?.inline_keyboard.flat().find((b) => b.text === buttonText)
    if (!button || button.callback_data === undefined) {
      const shown = stored?.reply_markup?.inline_keyboard
        .flat()
        .map((b) => JSON.stringify(b.text))
        .join(', ')
      throw new Error(`FakeBotApi.clickButtonByText: no callback button ${JSON.stringify(buttonText)} (buttons: ${shown || 'none'})`)
    }
    return this.clickButton(user, stored!, button.callback_data)
  }

  private chatStateFor(user: SimUser): ChatState {
    const u: User = { id: user.id, is_bot: false, first_name: user.first_name }
    if (user.last_name !== undefined) u.last_name = user.last_name
    if (user.username !== undefined) u.username = user.username
    if (user.language_code !== undefined) u.language_code = user.language_code
    const chat: Chat = { id: user.id, type: 'private', first_name: user.first_name }
    if (user.last_name !== undefined) chat.last_name = user.last_name
    if (user.username !== undefined) chat.username = user.username
    const existing = this.chats.get(user.id)
    if (existing) {
      existing.user = u
      existing.chat = chat
      return existing
    }
    const state: ChatState = { chat, user: u, nextMessageId: 1, messages: new Map(), blocked: false }
    this.chats.set(user.id, state)
    return state
  }

  private enqueue(payload: Omit<Update, 'update_id'>): Update {
    const update: Update = { update_id: this.nextUpdateId++, ...payload }
    this.queue.push(update)
    for (const poll of [...this.polls]) {
      const ready = this.takeUpdates(poll.limit)
      if (ready.length > 0) poll.deliver(ready)
    }
    this.pumpWebhook()
    return structuredClone(update)
  }

  // ------------------------------------------------------------ webhook delivery

  /**
   * Where webhook deliveries really go: Telegram resolves the webhook URL's
   * host; a test has no https host, so each delivery goes to the next of
   * these origins instead (round robin, like a load balancer), with the
   * URL's path and query. Without it deliveries go to the URL itself.
   */
  routeWebhookTo(origins: string[]): void {
    this.webhookOrigins = [...origins]
    this.pumpWebhook()
  }

  /**
   * Delivers queued updates while a webhook is set, as Telegram does: POST
   * with the update as JSON and X-Telegram-Bot-Api-Secret-Token, at most
   * max_connections at once and one chat's updates one after another (the
   * next only once the previous one was accepted); a 2xx answer confirms the
   * update (it leaves the queue), anything else (or no answer) is retried
   * with exponential backoff.
   */
  private pumpWebhook(): void {
    if (!this.webhookUrl || this.stopping) return
    const waitingChats = new Set<string>()
    for (const update of this.takeUpdates(this.queue.length)) {
      if (this.webhookBusy.size >= this.webhookMaxConnections) return
      const chat = updateChat(update)
      if (waitingChats.has(chat)) continue
      waitingChats.add(chat)
      if (this.webhookBusy.has(update.update_id)) continue
      this.webhookBusy.set(update.update_id, 0)
      void this.deliver(update)
    }
  }

  private async deliver(update: Update): Promise<void> {
    const url = new URL(this.webhookUrl)
    const origins = this.webhookOrigins
    const target = origins.length > 0 ? `${origins[this.nextWebhookOrigin++ % origins.length]}${url.pathname}${url.search}` : url.href
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (this.webhookSecret) headers['x-telegram-bot-api-secret-token'] = this.webhookSecret
    let status = 0
    let error: string | undefined
    try {
      const response = await fetch(target, { method: 'POST', headers, body: JSON.stringify(update), signal: AbortSignal.timeout(10_000) })
      status = response.status
      await response.arrayBuffer().catch(() => {})
      if (status < 200 || status > 299) error = `Wrong response from the webhook: ${status} ${response.statusText}`
    } catch (failure) {
      error = `Connection failed: ${failure instanceof Error ? failure.message : String(failure)}`
    }
    const attempts = (this.webhookBusy.get(update.update_id) ?? 0) + 1
    this.webhookDeliveries.push({ update_id: update.update_id, url: target, status, at: Date.now(), attempt: attempts, ...(error ? { error } : {}) })
    if (!error) {
      this.webhookBusy.delete(update.update_id)
      this.queue = this.queue.filter((u) => u.update_id !== update.update_id)
      this.pumpWebhook()
      return
    }
    this.lastWebhookError = { date: nowSeconds(), message: error }
    this.webhookBusy.set(update.update_id, attempts)
    const timer = setTimeout(
      () => {
        this.webhookRetries.delete(timer)
        if (this.stopping || !this.webhookUrl) {
          this.webhookBusy.delete(update.update_id)
          return
        }
        const current = this.queue.find((u) => u.update_id === update.update_id)
        if (!current) {
          this.webhookBusy.delete(update.update_id)
          this.pumpWebhook()
          return
        }
        void this.deliver(current)
      },
      Math.min(this.webhookRetryBaseMs * 2 ** (attempts - 1), 30_000),
    )
    this.webhookRetries.add(timer)
  }

  // ------------------------------------------------------------ HTTP

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const match = /^\/bot([^/]*)\/([^/]+)\/?$/.exec(url.pathname)
    let body: Buffer
    try {
      body = await readBody(req)
    } catch (error) {
      const failure = error instanceof ApiFailure ? error : new ApiFailure(400, 'Bad Request: unreadable body')
      this.writeJson(res, failure.body.error_code, failure.body)
      return
    }
    if (!match) {
      this.writeJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' })
      return
    }
    const requested = decodeURIComponent(match[2]!)
    const method = this.methodNames.get(requested.toLowerCase())
    let params: Record<string, unknown> = {}
    let failure: ApiFailure | undefined
    try {
      params = parseParams(req.headers['content-type'], body, url.searchParams)
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error
      failure = error
    }
    const ctx: CallContext = { res, files: [] }
    const finish = (status: number, response: ApiResponse): void => {
      const text = JSON.stringify(response)
      this.writeJson(res, status, text)
      const call: RecordedCall = { method: method ?? requested, params, at, status, response: JSON.parse(text) as ApiResponse }
      if (response.ok && method && MESSAGE_METHODS.has(method)) {
        if (isMessage(response.result)) call.message = structuredClone(response.result)
        else if (Array.isArray(response.result) && response.result.every(isMessage)) {
          call.messages = structuredClone(response.result)
          if (call.messages.length > 0) call.message = structuredClone(call.messages[0])
        }
      }
      if (ctx.files.length > 0) call.files = ctx.files
      this.record(call)
    }
    if (decodeURIComponent(match[1]!) !== this.token || this.revoked) {
      finish(401, { ok: false, error_code: 401, description: 'Unauthorized' })
      return
    }
    if (!method) {
      finish(404, { ok: false, error_code: 404, description: 'Not Found: method not found' })
      return
    }
    if (failure) {
      finish(failure.body.error_code, failure.body)
      return
    }
    const injected = this.failures.get(method)?.shift()
    if (injected) {
      finish(injected.error_code, injected)
      return
    }
    try {
      const result = await this.handlers[method]!(params, ctx)
      if (result === ABORTED) return
      finish(200, { ok: true, result })
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error
      finish(error.body.error_code, error.body)
    }
  }

  private writeJson(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent || res.destroyed) return
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }

  // ------------------------------------------------------------ methods

  private getUpdates(params: Record<string, unknown>, ctx: CallContext): Update[] | Promise<Update[] | typeof ABORTED> {
    if (this.webhookUrl) {
      throw new ApiFailure(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
    }
    const offset = intParam(params['offset'])
    const limit = Math.min(100, Math.max(1, intParam(params['limit']) ?? 100))
    const timeout = Math.max(0, intParam(params['timeout']) ?? 0)
    const allowed = params['allowed_updates']
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.filter((t): t is string => typeof t === 'string')
    if (offset !== undefined) {
      if (offset < 0) this.queue = this.queue.slice(Math.max(0, this.queue.length + offset))
      else this.queue = this.queue.filter((u) => u.update_id >= offset)
    }
    for (const poll of [...this.polls]) {
      if (poll.res.destroyed) {
        poll.abort() // the client already went away (e.g. telegraf's AbortController)
        continue
      }
      poll.fail(new ApiFailure(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'))
    }
    const ready = this.takeUpdates(limit)
    if (ready.length > 0 || timeout === 0 || this.stopping) return ready
    return new Promise((resolve, reject) => {
      const poll: PendingPoll = {
        limit,
        res: ctx.res,
        abort: () => {
          settle()
          resolve(ABORTED)
        },
        deliver: (updates) => {
          settle()
          resolve(updates)
        },
        fail: (failure) => {
          settle()
          reject(failure)
        },
      }
      const timer = setTimeout(() => poll.deliver([]), timeout * 1000)
      const onClose = (): void => {
        if (this.polls.has(poll)) poll.abort()
      }
      const settle = (): void => {
        this.polls.delete(poll)
        clearTimeout(timer)
        ctx.res.off('close', onClose)
      }
      ctx.res.on('close', onClose)
      this.polls.add(poll)
    })
  }

  /** Up to `limit` deliverable updates from the queue (they stay until confirmed by an offset). */
  private takeUpdates(limit: number): Update[] {
    const allowed = this.allowedUpdates
    this.queue = this.queue.filter((u) => {
      const type = Object.keys(u).find((k) => k !== 'update_id')!
      return allowed.length > 0 ? allowed.includes(type) : !DEFAULT_EXCLUDED_UPDATES.has(type)
    })
    return structuredClone(this.queue.slice(0, limit))
  }

  private requireChat(chatIdParam: unknown, forSending: boolean): ChatState {
    if (chatIdParam === undefined || chatIdParam === '') throw ApiFailure.badRequest('chat_id is empty')
    const chatId = intParam(chatIdParam)
    let state = chatId === undefined ? undefined : this.chats.get(chatId)
    if (!state && chatId !== undefined && chatId > 0 && this.allowUnknownChats) {
      state = this.chatStateFor({ id: chatId, first_name: `User ${chatId}` })
    }
    if (!state) throw ApiFailure.badRequest('chat not found')
    if (forSending && state.blocked) throw new ApiFailure(403, 'Forbidden: bot was blocked by the user')
    return state
  }

  private formatMessageText(params: Record<string, unknown>): { text: string; entities: MessageEntity[] } {
    const raw = stringParam(params['text'])
    if (raw === undefined || raw.trim() === '') throw ApiFailure.badRequest('message text is empty')
    const formatted = formatText(raw, stringParam(params['parse_mode']), params['entities'])
    if (formatted.text === '') throw ApiFailure.badRequest('message text is empty')
    if (formatted.text.length > MAX_TEXT_LENGTH) throw ApiFailure.badRequest('message is too long')
    validateLinkPreviewOptions(params['link_preview_options'])
    return formatted
  }

  private sendMessage(params: Record<string, unknown>): Message {
    const state = this.requireChat(params['chat_id'], true)
    const { text, entities } = this.formatMessageText(params)
    const { inline } = validateReplyMarkup(params['reply_markup'], false)
    const replyParams = params['reply_parameters'] as { message_id?: unknown; allow_sending_without_reply?: unknown } | undefined
    const replyToId = intParam(replyParams?.message_id) ?? intParam(params['reply_to_message_id'])
    let replyTo: Message | undefined
    if (replyToId !== undefined) {
      replyTo = state.messages.get(replyToId)
      const allowWithout = boolParam(replyParams?.allow_sending_without_reply) || boolParam(params['allow_sending_without_reply'])
      if (!replyTo && !allowWithout) throw ApiFailure.badRequest('message to be replied not found')
    }
    const message: Message = {
      message_id: state.nextMessageId++,
      from: this.botAsUser(),
      chat: { ...state.chat },
      date: nowSeconds(),
      text,
    }
    if (entities.length > 0) message.entities = entities
    if (inline) message.reply_markup = inline
    if (replyTo) {
      const { reply_to_message: _, ...shallow } = replyTo
      message.reply_to_message = structuredClone(shallow)
    }
    state.messages.set(message.message_id, message)
    return structuredClone(message)
  }

  private findEditable(params: Record<string, unknown>): { state: ChatState; message: Message } {
    if (params['inline_message_id'] !== undefined) throw ApiFailure.badRequest('MESSAGE_ID_INVALID')
    const state = this.requireChat(params['chat_id'], true)
    const id = intParam(params['message_id'])
    if (id === undefined) throw ApiFailure.badRequest('message identifier is not specified')
    const message = state.messages.get(id)
    if (!message) throw ApiFailure.badRequest('message to edit not found')
    if (message.from.id !== this.botUser.id) throw ApiFailure.badRequest("message can't be edited")
    return { state, message }
  }

  private editMessageText(params: Record<string, unknown>): Message {
    const { message } = this.findEditable(params)
    if (message.text === undefined) throw ApiFailure.badRequest('there is no text in the message to edit')
    const { text, entities } = this.formatMessageText(params)
    const { inline } = validateReplyMarkup(params['reply_markup'], true)
    const sameText = text === message.text && JSON.stringify(entities) === JSON.stringify(message.entities ?? [])
    if (sameText && sameMarkup(inline, message.reply_markup)) throw ApiFailure.badRequest(NOT_MODIFIED)
    message.text = text
    setOptional(message, 'entities', entities.length > 0 ? entities : undefined)
    setOptional(message, 'reply_markup', inline)
    message.edit_date = nowSeconds()
    return structuredClone(message)
  }

  private editMessageReplyMarkup(params: Record<string, unknown>): Message {
    const { message } = this.findEditable(params)
    const { inline } = validateReplyMarkup(params['reply_markup'], true)
    if (sameMarkup(inline, message.reply_markup)) throw ApiFailure.badRequest(NOT_MODIFIED)
    setOptional(message, 'reply_markup', inline)
    message.edit_date = nowSeconds()
    return structuredClone(message)
  }

  /** A caption as Telegram takes it: formatted like a text (parse_mode or caption_entities), at most 1024 characters, may be empty. */
  private formatCaption(params: Record<string, unknown>): { caption?: string; caption_entities?: MessageEntity[] } {
    const raw = stringParam(params['caption'])
    if (raw === undefined || raw === '') return {}
    const { text, entities } = formatText(raw, stringParam(params['parse_mode']), params['caption_entities'])
    if (text.length > MAX_CAPTION_LENGTH) throw ApiFailure.badRequest('message caption is too long')
    if (text === '') return {}
    return { caption: text, ...(entities.length > 0 ? { caption_entities: entities } : {}) }
  }

  /** sendPhoto, sendVideo, …: one file (uploaded or a file_id), a caption and a keyboard. */
  private sendMedia(kind: FileKind, params: Record<string, unknown>, ctx: CallContext): Message {
    const state = this.requireChat(params['chat_id'], true)
    const caption = this.formatCaption(params)
    const { inline } = validateReplyMarkup(params['reply_markup'], false)
    const resolved = this.files.resolve(params[kind], kind, kind, ctx.files)
    const message = this.mediaMessage(state, resolved, params, caption)
    if (inline) message.reply_markup = inline
    this.files.keep([resolved])
    state.messages.set(message.message_id, message)
    return structuredClone(message)
  }

  /**
   * sendMediaGroup: up to 10 photos and videos (or only audio, or only
   * documents), each uploaded (attach://<part>) or a file_id, each with its
   * own caption; the messages share a media_group_id. Telegram sends a
   * one-item "album" as a single message, and has no reply_markup here.
   * A refused album sends and keeps nothing.
   */
  private sendMediaGroup(params: Record<string, unknown>, ctx: CallContext): Message[] {
    const state = this.requireChat(params['chat_id'], true)
    const media = params['media']
    if (media === undefined || media === null) throw ApiFailure.badRequest('parameter "media" is required')
    if (!Array.isArray(media)) throw ApiFailure.badRequest("can't parse media JSON object")
    if (media.length === 0) throw ApiFailure.badRequest('there are no messages to send')
    if (media.length > MAX_ALBUM_ITEMS) throw ApiFailure.badRequest('too many messages to send as an album')
    const items = media.map((raw: unknown) => {
      const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
      const type = item['type']
      if (typeof type !== 'string' || type === '') throw ApiFailure.badRequest("can't parse InputMedia: media type is not specified")
      if (type === 'animation') throw ApiFailure.badRequest(`can't parse InputMedia: type "animation" can't be used in sendMediaGroup`)
      if (!ALBUM_TYPES.has(type as FileKind)) throw ApiFailure.badRequest(`can't parse InputMedia: type "${type}" is unsupported`)
      return { item, kind: type as FileKind }
    })
    // Every caption is read before any file, as Telegram's server parses the request.
    const captions = items.map(({ item }) => this.formatCaption(item))
    const resolved = items.map(({ item, kind }, i) => {
      return this.files.resolve(item['media'], kind, `media[${i}]`, ctx.files, params)
    })
    for (const lone of ['document', 'audio'] as const) {
      if (items.some((i) => i.kind === lone) && items.some((i) => i.kind !== lone)) throw ApiFailure.badRequest(`${lone} can't be mixed with other media types`)
    }
    const groupId = items.length > 1 ? String(this.nextMediaGroupId++) : undefined
    const messages = resolved.map((file, i) => {
      const message = this.mediaMessage(state, file, items[i]!.item, captions[i]!)
      if (groupId) message.media_group_id = groupId
      return message
    })
    this.files.keep(resolved)
    for (const message of messages) state.messages.set(message.message_id, message)
    return structuredClone(messages)
  }

  private mediaMessage(state: ChatState, resolved: ResolvedFile, params: Record<string, unknown>, caption: { caption?: string; caption_entities?: MessageEntity[] }): Message {
    const message: Message = { message_id: state.nextMessageId++, from: this.botAsUser(), chat: { ...state.chat }, date: nowSeconds() }
    const described = this.files.describe(resolved.file, params)
    if (Array.isArray(described)) message.photo = described
    else {
      message[resolved.file.kind as Exclude<FileKind, 'photo'>] = described
      // Telegram shows an animation also as the document it is.
      if (resolved.file.kind === 'animation') message.document = { ...described }
    }
    Object.assign(message, caption)
    return message
  }

  private deleteMessage(params: Record<string, unknown>): true {
    const state = this.requireChat(params['chat_id'], false)
    const id = intParam(params['message_id'])
    if (id === undefined) throw ApiFailure.badRequest('message identifier is not specified')
    if (!state.messages.delete(id)) throw ApiFailure.badRequest('message to delete not found')
    return true
  }

  private answerCallbackQuery(params: Record<string, unknown>): true {
    const id = stringParam(params['callback_query_id'])
    if (id === undefined || id === '') throw ApiFailure.badRequest('query_id is empty')
    const query = this.callbackQueries.get(id)
    if (!query || query.answered) throw ApiFailure.badRequest(QUERY_INVALID)
    const text = stringParam(params['text'])
    if (text !== undefined && text.length > 200) throw ApiFailure.badRequest('MESSAGE_TOO_LONG')
    query.answered = true
    return true
  }

  private sendChatAction(params: Record<string, unknown>): true {
    this.requireChat(params['chat_id'], true)
    const action = stringParam(params['action'])
    if (action === undefined || !CHAT_ACTIONS.has(action)) throw ApiFailure.badRequest('wrong parameter action in request')
    return true
  }

  private setMyCommands(params: Record<string, unknown>): true {
    const commands = params['commands']
    if (!Array.isArray(commands)) throw ApiFailure.badRequest('parameter "commands" is required')
    if (commands.length > 100) throw ApiFailure.badRequest('BOT_COMMANDS_TOO_MUCH')
    const clean: BotCommand[] = []
    for (const c of commands as Array<Record<string, unknown> | null>) {
      const command = typeof c?.['command'] === 'string' ? c['command'] : ''
      const description = typeof c?.['description'] === 'string' ? c['description'] : ''
      if (!/^[a-z0-9_]{1,32}$/.test(command)) throw ApiFailure.badRequest('BOT_COMMAND_INVALID')
      if (description.trim() === '' || description.length > 256) throw ApiFailure.badRequest('BOT_COMMAND_DESCRIPTION_INVALID')
      clean.push({ command, description })
    }
    if (clean.length === 0) this.commands.delete(commandsKey(params))
    else this.commands.set(commandsKey(params), clean)
    return true
  }

  private setChatMenuButton(params: Record<string, unknown>): true {
    const raw = (params['menu_button'] ?? { type: 'default' }) as Record<string, unknown> | null
    const type = raw?.['type']
    let button: MenuButton
    if (type === 'commands' || type === 'default') button = { type }
    else if (type === 'web_app') {
      const text = raw!['text']
      const url = (raw!['web_app'] as { url?: unknown } | undefined)?.url
      if (typeof text !== 'string' || text.trim() === '') throw ApiFailure.badRequest('BUTTON_TEXT_INVALID')
      if (typeof url !== 'string' || !url.startsWith('https://')) throw ApiFailure.badRequest('BUTTON_URL_INVALID')
      button = { type, text, web_app: { url } }
    } else throw ApiFailure.badRequest('unsupported menu button type')
    if (params['chat_id'] === undefined) {
      this.defaultMenuButton = button.type === 'default' ? { type: 'commands' } : button
    } else {
      const state = this.requireChat(params['chat_id'], false)
      if (button.type === 'default') this.menuButtons.delete(state.chat.id)
      else this.menuButtons.set(state.chat.id, button)
    }
    return true
  }

  private getChatMenuButton(params: Record<string, unknown>): MenuButton {
    if (params['chat_id'] === undefined) return structuredClone(this.defaultMenuButton)
    const state = this.requireChat(params['chat_id'], false)
    return structuredClone(this.menuButtons.get(state.chat.id) ?? this.defaultMenuButton)
  }

  private deleteWebhook(params: Record<string, unknown>): true {
    this.webhookUrl = ''
    this.webhookSecret = ''
    if (boolParam(params['drop_pending_updates'])) this.queue = []
    return true
  }

  private setWebhook(params: Record<string, unknown>): true {
    const url = stringParam(params['url']) ?? ''
    if (url !== '' && !url.startsWith('https://')) throw ApiFailure.badRequest('bad webhook: An HTTPS URL must be provided for webhook')
    const secret = stringParam(params['secret_token']) ?? ''
    if (secret !== '' && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) throw ApiFailure.badRequest('secret token contains unallowed characters')
    const maxConnections = intParam(params['max_connections'])
    if (maxConnections !== undefined && (maxConnections < 1 || maxConnections > 100)) throw ApiFailure.badRequest('bad webhook: max_connections must be between 1 and 100')
    const allowed = params['allowed_updates']
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.filter((t): t is string => typeof t === 'string')
    this.webhookUrl = url
    this.webhookSecret = url ? secret : ''
    this.webhookMaxConnections = maxConnections ?? 40
    if (boolParam(params['drop_pending_updates'])) this.queue = []
    this.pumpWebhook()
    return true
  }

  private getWebhookInfo(): Record<string, unknown> {
    return {
      url: this.webhookUrl,
      has_custom_certificate: false,
      pending_update_count: this.takeUpdates(this.queue.length).length,
      ...(this.webhookUrl ? { max_connections: this.webhookMaxConnections } : {}),
      ...(this.webhookUrl && this.allowedUpdates.length > 0 ? { allowed_updates: [...this.allowedUpdates] } : {}),
      ...(this.lastWebhookError ? { last_error_date: this.lastWebhookError.date, last_error_message: this.lastWebhookError.message } : {}),
    }
  }

  private botAsUser(): User {
    return { id: this.botUser.id, is_bot: true, first_name: this.botUser.first_name, username: this.botUser.username! }
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && 'message_id' in value && 'chat' in value
}

function setOptional<K extends 'entities' | 'reply_markup'>(message: Message, key: K, value: Message[K] | undefined): void {
  if (value === undefined) delete message[key]
  else message[key] = value
}

/** The chat (or user) an update belongs to, for delivering a chat's updates in order. */
function updateChat(update: Update): string {
  for (const value of Object.values(update)) {
    if (typeof value !== 'object' || value === null) continue
    const body = value as { chat?: { id?: number }; message?: { chat?: { id?: number } }; from?: { id?: number } }
    const id = body.chat?.id ?? body.message?.chat?.id ?? body.from?.id
    if (id !== undefined) return String(id)
  }
  return 'none'
}

function commandsKey(params: Record<string, unknown>): string {
  const scope = (params['scope'] ?? { type: 'default' }) as Record<string, unknown>
  return JSON.stringify([scope['type'] ?? 'default', String(scope['chat_id'] ?? ''), String(scope['user_id'] ?? ''), stringParam(params['language_code']) ?? ''])
}

function summarizeCall(call: RecordedCall): string {
  const parts: string[] = [call.method]
  const p = call.params
  if (p['chat_id'] !== undefined) parts.push(`chat_id=${String(p['chat_id'])}`)
  if (p['message_id'] !== undefined) parts.push(`message_id=${String(p['message_id'])}`)
  if (typeof p['text'] === 'string') parts.push(`text=${JSON.stringify(truncate(p['text'], 60))}`)
  if (p['callback_query_id'] !== undefined) parts.push(`callback_query_id=${String(p['callback_query_id'])}`)
  if (typeof p['caption'] === 'string') parts.push(`caption=${JSON.stringify(truncate(p['caption'], 60))}`)
  if (call.files) parts.push(`files=${call.files.map((f) => `${f.kind}:${f.source}`).join(',')}`)
  const markup = p['reply_markup'] as InlineKeyboardMarkup | undefined
  if (markup?.inline_keyboard) parts.push(`buttons=${markup.inline_keyboard.flat().length}`)
  const r = call.response
  const outcome = r.ok ? 'ok' : `${r.error_code} ${JSON.stringify(r.description)}`
  return `${parts.join(' ')} → ${outcome}`
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}

/**
 * `link_preview_options` (sendMessage, editMessageText) is a LinkPreviewOptions
 * object; Telegram refuses anything else with this 400. Its fields are
 * optional; `is_disabled`, when given, must be a boolean.
 */
function validateLinkPreviewOptions(value: unknown): void {
  if (value === undefined) return
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw ApiFailure.badRequest("can't parse link_preview_options JSON object")
  const disabled = (value as { is_disabled?: unknown }).is_disabled
  if (disabled !== undefined && typeof disabled !== 'boolean') throw ApiFailure.badRequest("can't parse link_preview_options JSON object")
}

// Shapes of the Telegram Bot API objects the fake server produces, plus the
// fake's own option and record types. Only the fields the fake fills in are
// listed; real Telegram objects carry more optional fields.

export interface User {
  id: number
  is_bot: boolean
  first_name: string
  last_name?: string
  username?: string
  language_code?: string
}

export interface BotUser extends User {
  can_join_groups: boolean
  can_read_all_group_messages: boolean
  supports_inline_queries: boolean
  can_connect_to_business: boolean
  has_main_web_app: boolean
}

/** A simulated human user. Their private chat with the bot has chat id = user id. */
export interface SimUser {
  id: number
  first_name: string
  last_name?: string
  username?: string
  language_code?: string
}

export interface Chat {
  id: number
  type: 'private'
  first_name: string
  last_name?: string
  username?: string
}

export interface MessageEntity {
  type: string
  offset: number
  length: number
  url?: string
  language?: string
  custom_emoji_id?: string
  user?: User
}

export interface InlineKeyboardButton {
  text: string
  callback_data?: string
  url?: string
  web_app?: { url: string }
  [field: string]: unknown
}

export interface InlineKeyboardMarkup {
  inline_keyboard: InlineKeyboardButton[][]
}

/** One size of a photo; Telegram sends a photo as an array of these, smallest first. */
export interface PhotoSize {
  file_id: string
  file_unique_id: string
  width: number
  height: number
  file_size: number
}

/** A video, animation, audio, voice or document as Telegram describes it in a Message. */
export interface MediaFile {
  file_id: string
  file_unique_id: string
  file_size: number
  mime_type?: string
  file_name?: string
  width?: number
  height?: number
  duration?: number
  performer?: string
  title?: string
}

export interface Message {
  message_id: number
  from: User
  chat: Chat
  date: number
  edit_date?: number
  text?: string
  entities?: MessageEntity[]
  photo?: PhotoSize[]
  video?: MediaFile
  animation?: MediaFile
  audio?: MediaFile
  voice?: MediaFile
  document?: MediaFile
  caption?: string
  caption_entities?: MessageEntity[]
  media_group_id?: string
  reply_markup?: InlineKeyboardMarkup
  reply_to_message?: Message
}

export interface CallbackQuery {
  id: string
  from: User
  message: Message
  chat_instance: string
  data: string
}

export interface Update {
  update_id: number
  message?: Message
  callback_query?: CallbackQuery
}

export interface BotCommand {
  command: string
  description: string
}

export type MenuButton = { type: 'commands' } | { type: 'default' } | { type: 'web_app'; text: string; web_app: { url: string } }

export interface ApiSuccess<T = unknown> {
  ok: true
  result: T
}

/** An error body as Telegram sends it; the HTTP status equals `error_code`. */
export interface ApiErrorBody {
  ok: false
  error_code: number
  description: string
  parameters?: { retry_after?: number; migrate_to_chat_id?: number }
}

export type ApiResponse<T = unknown> = ApiSuccess<T> | ApiErrorBody

/** A file part of a multipart request, as it appears in recorded params. */
export interface UploadedFile {
  filename: string
  contentType: string
  size: number
  /** Exactly the part's bytes. */
  bytes: Uint8Array
}

/** The kinds of file a message can carry, as the send methods name them (sendPhoto → photo). */
export type FileKind = 'photo' | 'video' | 'animation' | 'audio' | 'voice' | 'document'

/** One file a send call carried, and how it came. */
export interface RecordedFile {
  /** The parameter: `photo`, `document`, …; in sendMediaGroup `media[<index>]`. */
  field: string
  kind: FileKind
  /** `upload`: its bytes came in this request (multipart); `file_id`: a file_id the fake issued before. */
  source: 'upload' | 'file_id'
  /** The file_id the message got (for a photo: its largest size's); for a refused file_id, the one sent; '' for a refused upload. */
  fileId: string
  /** Bytes, when the file is known (an upload, or a file_id the fake issued). */
  size?: number
  /** The uploaded bytes (uploads only). */
  bytes?: Uint8Array
  /** The multipart filename (uploads only). */
  filename?: string
}

export interface RecordedCall {
  /** Canonical method name, e.g. `sendMessage` (even if requested as `sendmessage`). */
  method: string
  /** Parsed parameters (query string + body; JSON-string fields such as `reply_markup` decoded). */
  params: Record<string, unknown>
  /** Date.now() when the request arrived. */
  at: number
  /** HTTP status the fake answered with. */
  status: number
  /** Exactly the JSON body sent back. */
  response: ApiResponse
  /** For send/edit methods that succeeded with a Message: that message (sendMediaGroup: the first, which carries the caption). */
  message?: Message
  /** sendMediaGroup: every message of the album. */
  messages?: Message[]
  /** The files a send call carried (sendPhoto, sendMediaGroup, …), in order; set even when the call failed after reading them. */
  files?: RecordedFile[]
}

/** One webhook delivery attempt of the fake (FakeBotApi.webhookDeliveries). */
export interface WebhookDelivery {
  update_id: number
  /** Where it was POSTed (after routeWebhookTo). */
  url: string
  /** HTTP status of the answer; 0: no answer (connection failed, timed out). */
  status: number
  /** Date.now() when the attempt finished. */
  at: number
  /** 1 for the first attempt of this update, then 2, 3 … */
  attempt: number
  /** Why the attempt counts as failed (Telegram's last_error_message). */
  error?: string
}

export interface FakeBotApiOptions {
  /** The bot token; requests to `/bot<other token>/…` get 401. */
  token: string
  /** Defaults to `botsync_test_bot`. */
  botUsername?: string
  /** Defaults to `Botsync Test`. */
  botFirstName?: string
  /**
   * If false (default), sending to a chat the fake has never seen (no simulated
   * user wrote to the bot and `addUser` was not called) answers 400
   * `Bad Request: chat not found`, as Telegram does.
   */
  allowUnknownChats?: boolean
  /** First retry delay of a failed webhook delivery, doubling per attempt (at most 30 s). Default 200 ms. */
  webhookRetryBaseMs?: number
}

export interface WaitOptions {
  /** Default 5000. */
  timeoutMs?: number
  predicate?: (call: RecordedCall) => boolean
}

export interface WaitForCallOptions {
  /** Index into `calls` from which already-recorded calls also count (see `mark()`). Default 0. */
  since?: number
  /** Default 5000. */
  timeoutMs?: number
  /** Only calls of this method (or of one of these methods). */
  method?: string | string[]
}

export interface MessageWaitOptions {
  /** Default 5000. */
  timeoutMs?: number
  /** Also resolve with failed (ok:false) sendMessage/editMessageText calls. Default false. */
  includeFailed?: boolean
  predicate?: (call: RecordedCall) => boolean
}

export interface ClickOptions {
  /**
   * Skip the check that the message (as currently stored) still shows a button
   * with this callback_data. A real user can only press buttons that exist.
   */
  force?: boolean
}

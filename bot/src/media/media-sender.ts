import { createHash } from 'node:crypto'
import { ALBUM_KINDS, LIMITS, MEDIA_ID_PATTERN, type MediaInfo, type MediaKind, type MediaRef, type MessageEntity, type StepMedia } from '@botsync/shared-docs'
import { TelegramError, type Context } from 'telegraf'
import type { Logger } from '../logger.ts'
import { ThrottledTelegram } from '../telegram/throttled-telegram.ts'
import type { MediaFiles, StoredMedia } from './media-files.ts'
import type { FileIdStore } from './pg-file-id-store.ts'

/** The Bot API method that sends one item of each kind; its file parameter has the kind's name. */
const METHOD: Record<MediaKind, string> = {
  photo: 'sendPhoto',
  video: 'sendVideo',
  animation: 'sendAnimation',
  audio: 'sendAudio',
  voice: 'sendVoice',
  document: 'sendDocument',
}

/** A name for an upload whose server gave none: Telegram shows a document's name, and guesses little from it for the rest. */
const EXTENSION: Record<string, string> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'video/mp4': '.mp4',
  'audio/mpeg': '.mp3',
  'audio/ogg': '.ogg',
  'application/pdf': '.pdf',
}
const KIND_EXTENSION: Record<MediaKind, string> = { photo: '.jpg', video: '.mp4', animation: '.mp4', audio: '.mp3', voice: '.ogg', document: '' }

/** Telegram's answer to a file_id it does not (or no longer) know for this bot. */
const WRONG_FILE_ID = 'wrong file identifier'

/** Which step's media, for the one log line per broken media. */
export interface MediaPlace {
  scenarioId: string
  stepId: string
}

/** A media item ready to go: Telegram's file_id for it, or its bytes to upload; and what the library says of it. */
interface ReadyItem {
  ref: MediaRef
  fileId?: string
  upload?: StoredMedia
  info?: MediaInfo
}

/** The media library's entry of a file (name, type, dimensions), when the space's content has one. */
export type MediaLibrary = (id: string) => MediaInfo | null

/** A step's media, every item either remembered by Telegram or read from the server. */
export interface PreparedMedia {
  place: MediaPlace
  media: StepMedia
  items: ReadyItem[]
  library: MediaLibrary
}

/** What goes with the media, composed when the send slot comes. */
export interface MediaMessage {
  caption: string
  entities: MessageEntity[]
  markup: object | undefined
}

export interface MediaSenderOptions {
  files: MediaFiles
  fileIds: FileIdStore
  log: Logger
}

/**
 * Sends a step's media: one item with the method of its kind (sendPhoto …)
 * and the step's message as caption and keyboard, or an album
 * (sendMediaGroup) with the caption on its first item. Each file is
 * uploaded once per bot (multipart) and sent by Telegram's file_id after
 * that; a remembered file_id Telegram refuses is forgotten and the file
 * uploaded again, once. Media that cannot be sent — a file the server does
 * not have, bytes that do not match their id, a file over Telegram's upload
 * limit, an album Telegram would refuse, an upload Telegram refuses — is
 * logged once per step and media (until either changes), not once per user.
 */
export class MediaSender {
  private readonly files: MediaFiles
  private readonly fileIds: FileIdStore
  private readonly log: Logger
  /** step → the media last reported broken there. */
  private readonly reported = new Map<string, string>()
  /** Reads under way, by media id: users reaching a new file at once download it once. */
  private readonly reading = new Map<string, Promise<StoredMedia | string>>()

  constructor(options: MediaSenderOptions) {
    this.files = options.files
    this.fileIds = options.fileIds
    this.log = options.log
  }

  /** Each item's file_id for this bot, or its bytes; null (logged once) when the media cannot be sent. */
  async prepare(botId: number, place: MediaPlace, media: StepMedia, library: MediaLibrary = () => null): Promise<PreparedMedia | null> {
    const problem = shapeProblem(media)
    if (problem) return this.unusable(place, media, problem)
    const items: ReadyItem[] = []
    for (const ref of media.items) {
      const info = library(ref.id) ?? undefined
      const fileId = await this.fileIds.get(botId, ref.id, ref.kind)
      if (fileId !== null) {
        items.push({ ref, fileId, ...(info ? { info } : {}) })
        continue
      }
      const read = await this.read(ref)
      if (typeof read === 'string') return this.unusable(place, media, read, ref)
      items.push({ ref, upload: read, ...(info ? { info } : {}) })
    }
    return { place, media, items, library }
  }

  /**
   * Sends prepared media to the chat. False (logged once) when Telegram
   * refuses the media itself, so the caller answers otherwise; other
   * failures (blocked, rate limits past retrying) are thrown.
   */
  async send(ctx: Context, prepared: PreparedMedia, compose: () => MediaMessage): Promise<boolean> {
    const botId = ctx.botInfo.id
    let ready = prepared
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sendOnce(ctx, ready, compose)
        // Sent: should it break again, that is worth a line again.
        this.reported.delete(keyOf(prepared.place))
        return true
      } catch (error) {
        if (!(error instanceof TelegramError) || error.code !== 400) throw error
        const remembered = ready.items.filter((item) => item.fileId !== undefined)
        if (attempt === 1 && remembered.length > 0 && error.description.includes(WRONG_FILE_ID)) {
          // Telegram lost the file (or the bot's token changed hands): upload it again, once.
          for (const item of remembered) await this.fileIds.forget(botId, item.ref.id, item.ref.kind, item.fileId!)
          const again = await this.prepare(botId, prepared.place, prepared.media, prepared.library)
          if (!again) return false
          ready = again
          continue
        }
        this.unusable(prepared.place, prepared.media, `Telegram refused it: ${error.description}`)
        return false
      }
    }
  }

  private async sendOnce(ctx: Context, prepared: PreparedMedia, compose: () => MediaMessage): Promise<void> {
    const chatId = ctx.chat!.id
    const botId = ctx.botInfo.id
    const { items } = prepared
    if (items.length === 1) {
      const [item] = items
      const kind = item!.ref.kind
      const message = (await call(ctx, METHOD[kind], chatId, () => {
        const { caption, entities, markup } = compose()
        return { chat_id: chatId, [kind]: inputFile(item!), ...attributesOf(item!), ...captionOf(caption, entities), ...(markup ? { reply_markup: markup } : {}) }
      })) as Record<string, unknown>
      await this.remember(botId, [item!], [message])
      return
    }
    // An album has no keyboard (sendMediaGroup takes none): with one, the
    // message goes under the album as a text with the keyboard, so its
    // buttons stay usable; without one, it is the album's caption.
    let withKeyboard = false
    const messages = (await call(ctx, 'sendMediaGroup', chatId, () => {
      const { caption, entities, markup } = compose()
      withKeyboard = markup !== undefined
      const media = items.map((item, i) => ({
        type: item.ref.kind,
        media: inputFile(item),
        ...attributesOf(item),
        ...(i === 0 && !withKeyboard ? captionOf(caption, entities) : {}),
      }))
      return { chat_id: chatId, media }
    })) as Record<string, unknown>[]
    await this.remember(botId, items, messages)
    if (!withKeyboard) return
    if (compose().caption.trim() === '') {
      this.log.warn(
        { event: 'album-keyboard-without-text', ...prepared.place },
        "an album's keyboard needs the step's message as its text; the message is empty, so the keyboard is not shown",
      )
      return
    }
    await call(ctx, 'sendMessage', chatId, () => {
      const now = compose()
      return { chat_id: chatId, text: now.caption, ...(now.entities.length > 0 ? { entities: now.entities } : {}), ...(now.markup ? { reply_markup: now.markup } : {}) }
    })
  }

  /** Telegram's file_id of each uploaded item, from the message(s) it answered with. */
  private async remember(botId: number, items: readonly ReadyItem[], messages: readonly Record<string, unknown>[]): Promise<void> {
    for (const [i, item] of items.entries()) {
      if (!item.upload) continue
      const fileId = fileIdIn(messages[i], item.ref.kind)
      if (fileId === undefined) {
        this.log.warn(
          { event: 'media-file-id-missing', mediaId: item.ref.id, kind: item.ref.kind },
          "Telegram's answer has no file_id for an upload; it will be uploaded again next time",
        )
        continue
      }
      try {
        await this.fileIds.remember(botId, item.ref.id, item.ref.kind, fileId)
      } catch (error) {
        // The message went; without the file_id the next send uploads again.
        this.log.warn({ event: 'media-file-id-not-saved', mediaId: item.ref.id, err: error }, 'could not remember a file_id')
      }
    }
  }

  /** The file's bytes, or why they cannot be sent; one download for everyone asking at once. */
  private read(ref: MediaRef): Promise<StoredMedia | string> {
    const key = `${ref.kind}:${ref.id}`
    let reading = this.reading.get(key)
    if (!reading) {
      reading = this.download(ref).finally(() => this.reading.delete(key))
      this.reading.set(key, reading)
    }
    return reading
  }

  private async download(ref: MediaRef): Promise<StoredMedia | string> {
    let stored: StoredMedia | null
    try {
      stored = await this.files.read(ref.id)
    } catch (error) {
      return `the server could not be asked for it (${error instanceof Error ? error.message : String(error)})`
    }
    if (stored === null) return 'the server has no such file'
    if (createHash('sha256').update(stored.bytes).digest('hex') !== ref.id) return "the server's bytes do not match the id"
    const max = ref.kind === 'photo' ? LIMITS.photoBytes : LIMITS.fileBytes
    if (stored.bytes.length > max) return `${stored.bytes.length} bytes is over Telegram's upload limit for a ${ref.kind} (${max})`
    if (stored.bytes.length === 0) return 'the file is empty'
    return stored
  }

  private unusable(place: MediaPlace, media: StepMedia, reason: string, ref?: MediaRef): null {
    const key = keyOf(place)
    const value = JSON.stringify(media.items)
    if (this.reported.get(key) !== value) {
      this.reported.set(key, value)
      this.log.warn({ event: 'step-media-unusable', ...place, ...(ref ? { mediaId: ref.id, kind: ref.kind } : {}), reason }, "a step's media cannot be sent; the step is skipped")
    }
    return null
  }
}

/** What makes media unsendable whatever the files are: Telegram's album rules and the id format. */
function shapeProblem(media: StepMedia): string | null {
  const { items } = media
  if (items.length === 0) return 'no items'
  const bad = items.find((item) => !MEDIA_ID_PATTERN.test(item.id))
  if (bad) return `malformed media id ${JSON.stringify(bad.id)}`
  if (items.length === 1) return null
  if (items.length > LIMITS.albumMax) return `an album of ${items.length} items (at most ${LIMITS.albumMax})`
  const odd = items.find((item) => !ALBUM_KINDS.includes(item.kind))
  if (odd) return `an album cannot hold a ${odd.kind}`
  return null
}

function keyOf(place: MediaPlace): string {
  return `${place.scenarioId}\u0000${place.stepId}`
}

function captionOf(caption: string, entities: MessageEntity[]): { caption?: string; caption_entities?: MessageEntity[] } {
  if (caption === '') return {}
  return { caption, ...(entities.length > 0 ? { caption_entities: entities } : {}) }
}

/**
 * A file_id, or the bytes as telegraf uploads them (a Buffer view on them:
 * telegraf takes only Buffers), named as the library names the file (a
 * document shows its name), else as the server does, else by its id.
 */
function inputFile(item: ReadyItem): string | { source: Buffer; filename: string } {
  if (item.fileId !== undefined) return item.fileId
  const upload = item.upload!
  const source = Buffer.from(upload.bytes.buffer, upload.bytes.byteOffset, upload.bytes.byteLength)
  const type = (item.info?.mime ?? upload.contentType)?.split(';')[0]?.trim().toLowerCase()
  const filename = item.info?.name || upload.filename || `${item.ref.id.slice(0, 16)}${(type && EXTENSION[type]) ?? KIND_EXTENSION[item.ref.kind]}`
  return { source, filename }
}

/** What the library knows of a video's or audio's dimensions and length, as the send methods take it (Telegram shows it before the file loads). */
function attributesOf(item: ReadyItem): { width?: number; height?: number; duration?: number } {
  const { info } = item
  if (!info) return {}
  const kind = item.ref.kind
  const out: { width?: number; height?: number; duration?: number } = {}
  if ((kind === 'video' || kind === 'animation') && info.width && info.height) Object.assign(out, { width: info.width, height: info.height })
  if ((kind === 'video' || kind === 'animation' || kind === 'audio' || kind === 'voice') && info.duration !== undefined) out.duration = Math.round(info.duration)
  return out
}

function fileIdIn(message: Record<string, unknown> | undefined, kind: MediaKind): string | undefined {
  if (!message) return undefined
  const value = message[kind]
  // A photo comes as its sizes, smallest first; the largest is the photo itself.
  const file = Array.isArray(value) ? (value.at(-1) as unknown) : value
  const id = (file as { file_id?: unknown } | undefined)?.file_id
  return typeof id === 'string' ? id : undefined
}

/** Through the throttled client when the context has it (composed at the send slot), else composed now. */
function call(ctx: Context, method: string, chatId: number, compose: () => Record<string, unknown>): Promise<unknown> {
  const telegram = ctx.telegram
  if (telegram instanceof ThrottledTelegram) return telegram.callComposed(method as never, chatId, compose as never)
  return telegram.callApi(method as never, compose() as never)
}

import { MEDIA_ERRORS, docName, mediaByteLimit, setMediaInfo, type MediaInfo, type MediaKind, type MediaUploadResult } from '@botsync/shared-docs'
import { HttpError } from '../http/respond.ts'
import type { Logger } from '../logger.ts'
import type { ServerWriter } from '../server-writer.ts'
import { inspectMedia, UnsupportedMedia } from './media-inspector.ts'
import type { MediaStore, StoredMedia } from './media-store.ts'
import type { UploadedFile } from './multipart-upload.ts'

export interface MediaUploadsDeps {
  store: MediaStore
  /** Writes the library entry into `<space>/settings` (committed first, then live for every admin and the bot). */
  writer: Pick<ServerWriter, 'change'>
  log: Logger
  /** MEDIA_MAX_BYTES: a deployment's own cap, below Telegram's per-kind limits. */
  maxBytes: number
}

/**
 * Turns an uploaded file into a stored one: its type by content, Telegram's
 * size limit for the kind it is sent as, then the bytes (content-addressed),
 * and only after they are committed the library entry in the settings
 * document, so an entry always names a file that can be fetched. Any
 * refusal comes before the INSERT: nothing is stored.
 */
export class MediaUploads {
  private readonly deps: MediaUploadsDeps

  constructor(deps: MediaUploadsDeps) {
    this.deps = deps
  }

  /** `requestedKind`: the form's `kind` field ('' or absent: the content's own kind). */
  async accept(space: string, file: UploadedFile, requestedKind: string | undefined, uploadedBy: string): Promise<MediaUploadResult> {
    let inspected
    try {
      inspected = await inspectMedia(file.content)
    } catch (error) {
      if (error instanceof UnsupportedMedia) throw new HttpError(415, MEDIA_ERRORS.unsupported, `${error.message}; nothing was stored`)
      throw error
    }
    const kind = sentAs(inspected.kind, requestedKind)
    const telegramLimit = mediaByteLimit(kind)
    if (file.content.length > telegramLimit) {
      const hint = kind === 'photo' && this.deps.maxBytes > telegramLimit ? ' (send it as a document, kind=document, for more)' : ''
      throw new HttpError(
        413,
        MEDIA_ERRORS.tooLarge,
        `a ${kind} may be at most ${telegramLimit / (1024 * 1024)} MB for a bot to upload; this file is ${file.content.length} bytes${hint}; nothing was stored`,
      )
    }
    if (file.content.length > this.deps.maxBytes) {
      throw new HttpError(
        413,
        MEDIA_ERRORS.tooLarge,
        `this server takes files of at most ${this.deps.maxBytes} bytes (MEDIA_MAX_BYTES); this one is ${file.content.length}; nothing was stored`,
      )
    }
    const { media, created } = await this.deps.store.put({
      id: file.sha256,
      space,
      mime: inspected.mime,
      // The content's own kind: a photo asked to go as a document is still a photo (a step's media item says how it is sent).
      kind: inspected.kind,
      bytes: file.content.length,
      width: inspected.width,
      height: inspected.height,
      duration: inspected.duration,
      name: file.name,
      uploadedBy,
      content: file.content,
    })
    // Also for bytes stored before: an entry a version restore took back comes back with the upload.
    await this.deps.writer.change(docName.settings(space), (doc) => void setMediaInfo(doc, media.id, libraryEntry(media)), { authorId: uploadedBy })
    this.deps.log.info({ event: created ? 'media-stored' : 'media-already-stored', space, id: media.id, kind: media.kind, mime: media.mime, bytes: media.bytes, user: uploadedBy })
    return { ...uploadResult(media), kind }
  }
}

/** The kind the file is sent as: its own, or `document` when asked (any file can go as a file). */
function sentAs(own: MediaKind, requested: string | undefined): MediaKind {
  if (requested === undefined || requested === '' || requested === own) return own
  if (requested === 'document') return 'document'
  throw new HttpError(400, MEDIA_ERRORS.invalid, `this file can only be sent as a ${own} or as a document, not as "${requested.slice(0, 40)}"`)
}

export function libraryEntry(media: StoredMedia): MediaInfo {
  return {
    kind: media.kind,
    mime: media.mime,
    bytes: media.bytes,
    name: media.name,
    ...(media.width !== undefined && media.height !== undefined ? { width: media.width, height: media.height } : {}),
    ...(media.duration !== undefined ? { duration: media.duration } : {}),
  }
}

export function uploadResult(media: StoredMedia): MediaUploadResult {
  const { name: _name, ...info } = libraryEntry(media)
  return { id: media.id, ...info }
}

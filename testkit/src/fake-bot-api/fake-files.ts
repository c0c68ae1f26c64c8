// The files one fake bot has sent, as Telegram keeps them: an upload becomes
// a file with a file_id that this bot (and only this bot: each FakeBotApi
// has its own store) may send again instead of the bytes. Wording of every
// refusal is Telegram's.
import { imageSize } from 'image-size'
import { ApiFailure } from './api-failure.ts'
import type { FileKind, MediaFile, PhotoSize, RecordedFile, UploadedFile } from './types.ts'

/** Telegram's multipart limits: a photo ≤ 10 MB, any other file ≤ 50 MB (binary megabytes). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024
export const MAX_FILE_BYTES = 50 * 1024 * 1024

/** The side lengths Telegram scales a photo's smaller sizes to (s, m, x, y); the largest size is capped at 2560. */
const PHOTO_SIDES = [90, 320, 800, 1280]
const PHOTO_MAX_SIDE = 2560

/** TDLib's names of file types, as its "can't use file of type … as …" error says them. */
const TYPE_NAMES: Record<FileKind, string> = {
  photo: 'Photo',
  video: 'Video',
  animation: 'Animation',
  audio: 'Audio',
  voice: 'VoiceNote',
  document: 'Document',
}

/** The first bytes of Telegram's file_ids of each kind, so ids look like the real ones in logs. */
const ID_PREFIX: Record<FileKind, string> = {
  photo: 'AgACAgIAAxkDAAI',
  video: 'BAACAgIAAxkDAAI',
  animation: 'CgACAgIAAxkDAAI',
  audio: 'CQACAgIAAxkDAAI',
  voice: 'AwACAgIAAxkDAAI',
  document: 'BQACAgIAAxkDAAI',
}

/**
 * The mime type Telegram reports for an upload without one of its own
 * (telegraf sends file parts without a Content-Type): from the file name's
 * extension. A handful of types is all the tests send; a library such as
 * mime-types would be a dependency for six entries.
 */
const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  mp4: 'video/mp4',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  pdf: 'application/pdf',
  txt: 'text/plain',
}

export interface StoredFile {
  kind: FileKind
  fileId: string
  uniqueId: string
  size: number
  bytes: Uint8Array
  mimeType: string
  fileName: string
  /** Photos: every size, smallest first; each size has a file_id of its own. */
  photoSizes?: PhotoSize[]
}

/** A file a request names, read but not yet kept (a refused request keeps nothing). */
export interface ResolvedFile {
  file: StoredFile
  record: RecordedFile
  isNew: boolean
}

export class FakeFileStore {
  private readonly botId: number
  private readonly byId = new Map<string, StoredFile>()
  private next = 1

  constructor(botId: number) {
    this.botId = botId
  }

  /**
   * The file a parameter names: a multipart upload, `attach://<part>` (only
   * inside sendMediaGroup's `media`, where `parts` are the request's
   * parameters), or a file_id this bot got before. A URL is refused the way
   * Telegram refuses one it cannot download: this fake has no web to fetch
   * from, and the bot never sends URLs.
   */
  resolve(value: unknown, kind: FileKind, field: string, seen: RecordedFile[], parts?: Record<string, unknown>): ResolvedFile {
    let upload: UploadedFile | undefined
    if (typeof value === 'string' && value.startsWith('attach://') && parts) {
      const part = parts[value.slice('attach://'.length)]
      if (!isUpload(part)) throw ApiFailure.badRequest("can't parse InputMedia: media not found")
      upload = part
    } else if (isUpload(value)) upload = value
    if (upload) return this.fromUpload(upload, kind, field, seen)
    if (typeof value !== 'string' || value.trim() === '') throw ApiFailure.badRequest(`there is no ${kind} in the request`)
    if (/^https?:\/\//i.test(value)) throw ApiFailure.badRequest('failed to get HTTP URL content')
    const file = this.byId.get(value.trim())
    // Recorded before it is checked: a test sees which file_id a refused call tried.
    const record: RecordedFile = { field, kind, source: 'file_id', fileId: file?.fileId ?? value, ...(file ? { size: file.size } : {}) }
    seen.push(record)
    if (!file) throw ApiFailure.badRequest('wrong file identifier/HTTP URL specified')
    if (file.kind !== kind) throw ApiFailure.badRequest(`can't use file of type ${TYPE_NAMES[file.kind]} as ${TYPE_NAMES[kind]}`)
    return { file, isNew: false, record }
  }

  /** Keeps what a request that succeeded uploaded, so its file_ids work from now on. */
  keep(resolved: readonly ResolvedFile[]): void {
    for (const { file, isNew } of resolved) {
      if (!isNew) continue
      this.byId.set(file.fileId, file)
      for (const size of file.photoSizes ?? []) this.byId.set(size.file_id, file)
    }
  }

  /** How a Message shows the file: `photo` as its sizes, the others as one object. */
  describe(file: StoredFile, params: Record<string, unknown>): PhotoSize[] | MediaFile {
    if (file.photoSizes) return structuredClone(file.photoSizes)
    const media: MediaFile = { file_id: file.fileId, file_unique_id: file.uniqueId, file_size: file.size, mime_type: file.mimeType }
    // Duration, dimensions, performer and title are what the sender says (the fake reads no video or audio).
    const number = (key: string) => (typeof params[key] === 'number' ? params[key] : Number(params[key] ?? 0) || 0)
    if (file.kind === 'video' || file.kind === 'animation') Object.assign(media, { width: number('width'), height: number('height'), duration: number('duration') })
    if (file.kind === 'audio' || file.kind === 'voice') media.duration = number('duration')
    if (file.kind === 'audio') {
      if (typeof params['performer'] === 'string') media.performer = params['performer']
      if (typeof params['title'] === 'string') media.title = params['title']
    }
    if (file.kind !== 'voice') media.file_name = file.fileName
    return media
  }

  private fromUpload(upload: UploadedFile, kind: FileKind, field: string, seen: RecordedFile[]): ResolvedFile {
    const record: RecordedFile = { field, kind, source: 'upload', fileId: '', size: upload.size, bytes: upload.bytes, filename: upload.filename }
    seen.push(record)
    if (upload.size === 0) throw ApiFailure.badRequest('file must be non-empty')
    if (upload.size > MAX_FILE_BYTES) throw new ApiFailure(413, 'Request Entity Too Large')
    const n = this.next++
    const fileId = this.newId(kind, n, 'f')
    const file: StoredFile = {
      kind,
      fileId,
      uniqueId: `AQAD${n}${this.botId.toString(36)}`,
      size: upload.size,
      bytes: upload.bytes,
      mimeType: mimeOf(upload),
      fileName: upload.filename,
    }
    if (kind === 'photo') {
      if (upload.size > MAX_PHOTO_BYTES) {
        throw ApiFailure.badRequest(`file of size ${upload.size} bytes is too big for a photo; the maximum size is ${MAX_PHOTO_BYTES} bytes`)
      }
      file.photoSizes = this.photoSizes(upload, n)
      file.fileId = file.photoSizes.at(-1)!.file_id
    }
    record.fileId = file.fileId
    return { file, isNew: true, record }
  }

  /** The sizes Telegram makes of a photo: smaller copies for each side it exceeds, then the photo itself (at most 2560 a side). */
  private photoSizes(upload: UploadedFile, n: number): PhotoSize[] {
    let width: number
    let height: number
    try {
      ;({ width, height } = imageSize(upload.bytes))
    } catch {
      throw ApiFailure.badRequest('IMAGE_PROCESS_FAILED')
    }
    if (!width || !height) throw ApiFailure.badRequest('IMAGE_PROCESS_FAILED')
    if (width + height > 10_000 || Math.max(width, height) / Math.min(width, height) > 20) throw ApiFailure.badRequest('PHOTO_INVALID_DIMENSIONS')
    const longest = Math.max(width, height)
    const sides = [...PHOTO_SIDES.filter((side) => side < longest), Math.min(longest, PHOTO_MAX_SIDE)]
    return sides.map((side, i) => {
      const scale = side / longest
      const isLast = i === sides.length - 1
      return {
        file_id: this.newId('photo', n, String(i)),
        file_unique_id: `AQAD${n}${this.botId.toString(36)}${i}`,
        width: Math.max(1, Math.round(width * scale)),
        height: Math.max(1, Math.round(height * scale)),
        file_size: isLast ? upload.size : Math.max(1, Math.round(upload.size * scale * scale)),
      }
    })
  }

  private newId(kind: FileKind, n: number, variant: string): string {
    return `${ID_PREFIX[kind]}${Buffer.from(`${this.botId}:${n}:${variant}`).toString('base64url')}`
  }
}

function isUpload(value: unknown): value is UploadedFile {
  return typeof value === 'object' && value !== null && (value as UploadedFile).bytes instanceof Uint8Array
}

function mimeOf(upload: UploadedFile): string {
  if (upload.contentType !== 'application/octet-stream') return upload.contentType
  const extension = /\.([A-Za-z0-9]+)$/.exec(upload.filename)?.[1]?.toLowerCase()
  return (extension && MIME_BY_EXTENSION[extension]) || 'application/octet-stream'
}

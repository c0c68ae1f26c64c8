import { fileTypeFromBuffer } from 'file-type'
import { imageSize } from 'image-size'
import { parseBuffer } from 'music-metadata'
import type { MediaKind } from '@botsync/shared-docs'

/**
 * What botsync sends each type it accepts as, by the type `file-type` finds
 * in the bytes (magic numbers; never the file's name or the type the browser
 * declared). An allow-list: anything else, executables and unknown bytes
 * included, is refused. Telegram sends GIFs as animations, plays voice
 * messages only as OGG/Opus, and shows photos only as JPEG, PNG or WebP;
 * the other images and documents go as files.
 */
const KIND_BY_MIME: Readonly<Record<string, MediaKind>> = Object.freeze({
  'image/jpeg': 'photo',
  'image/png': 'photo',
  'image/webp': 'photo',
  'image/gif': 'animation',
  'video/mp4': 'video',
  'video/x-m4v': 'video',
  'video/quicktime': 'video',
  'video/webm': 'video',
  'audio/mpeg': 'audio',
  'audio/x-m4a': 'audio',
  'audio/mp4': 'audio',
  'audio/flac': 'audio',
  'audio/wav': 'audio',
  'audio/ogg; codecs=opus': 'voice',
  'image/heic': 'document',
  'image/tiff': 'document',
  'image/bmp': 'document',
  'application/pdf': 'document',
  'application/zip': 'document',
  'application/epub+zip': 'document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'document',
  'application/vnd.oasis.opendocument.text': 'document',
  'application/vnd.oasis.opendocument.spreadsheet': 'document',
  'application/vnd.oasis.opendocument.presentation': 'document',
  'application/x-7z-compressed': 'document',
  'application/gzip': 'document',
})

/** Named in the refusal, so "an executable" says more than "unsupported". */
const EXECUTABLE_MIMES = new Set(['application/x-elf', 'application/x-msdownload', 'application/x-mach-binary', 'application/x-dosexec', 'application/wasm'])

export interface InspectedMedia {
  mime: string
  /** The kind the content is sent as unless the upload asks for `document`. */
  kind: MediaKind
  width?: number
  height?: number
  duration?: number
}

/** Why bytes were refused, for the 415 answer's message. */
export class UnsupportedMedia extends Error {}

/**
 * The type, kind and what is cheaply known of the file's shape: pixel size
 * of photos and animations (`image-size`), duration of audio, voice and
 * video (`music-metadata` reads MP4/QuickTime, WebM, MP3, M4A, FLAC, WAV and
 * OGG containers). Video pixel sizes are left out: no well-kept library
 * reads them from every container without decoding.
 */
export async function inspectMedia(bytes: Uint8Array): Promise<InspectedMedia> {
  const type = await fileTypeFromBuffer(bytes)
  if (!type) throw new UnsupportedMedia('the bytes are not a photo, video, animation, audio, voice message or document type botsync sends')
  if (EXECUTABLE_MIMES.has(type.mime)) throw new UnsupportedMedia(`the file is an executable (${type.mime}), whatever its name says; it is not stored`)
  const kind = Object.hasOwn(KIND_BY_MIME, type.mime) ? KIND_BY_MIME[type.mime] : undefined
  if (!kind)
    throw new UnsupportedMedia(
      `files of type ${type.mime} are not accepted; upload a photo (JPEG, PNG, WebP), a GIF, a video (MP4, MOV, WebM), audio (MP3, M4A, FLAC, WAV), a voice message (OGG/Opus) or a document (PDF, ZIP, office formats)`,
    )
  const inspected: InspectedMedia = { mime: type.mime, kind }
  if (kind === 'photo' || kind === 'animation') Object.assign(inspected, pixelSize(bytes))
  if (kind === 'audio' || kind === 'voice' || kind === 'video') {
    const duration = await durationOf(bytes, type.mime)
    if (duration !== undefined) inspected.duration = duration
  }
  return inspected
}

function pixelSize(bytes: Uint8Array): { width?: number; height?: number } {
  try {
    const { width, height } = imageSize(bytes)
    return width > 0 && height > 0 ? { width, height } : {}
  } catch {
    // A photo whose header image-size cannot read: stored without its size rather than refused.
    return {}
  }
}

async function durationOf(bytes: Uint8Array, mime: string): Promise<number | undefined> {
  try {
    const { format } = await parseBuffer(bytes, { mimeType: mime, size: bytes.length }, { duration: true, skipCovers: true })
    const seconds = format.duration
    // Telegram takes whole seconds.
    return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds) : undefined
  } catch {
    return undefined
  }
}

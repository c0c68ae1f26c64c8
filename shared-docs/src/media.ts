// A space's media: the files uploaded to it (POST /api/spaces/:space/media,
// stored by the server content-addressed in PostgreSQL) and the library that
// lists them in the settings document, so every admin and the bot's replica
// learn of a new file live. The library is written by the server only, after
// the bytes are committed: an entry means the file can be fetched.
//
//   <space>/settings: doc.getMap('media')  id (sha256 hex) → MediaInfo (one plain JSON value)
import * as Y from 'yjs'
import { LIMITS } from './limits.ts'
import { MEDIA_ID_PATTERN, isMediaKind } from './scenario.ts'
import type { MediaInfo, MediaKind } from './types.ts'

export type { MediaInfo }

/** The answer of POST /api/spaces/:space/media (the library entry without the name, plus the id). */
export interface MediaUploadResult {
  id: string
  kind: MediaKind
  mime: string
  bytes: number
  width?: number
  height?: number
  duration?: number
}

/** One file of GET /api/spaces/:space/media (`{media: MediaListItem[]}`). */
export interface MediaListItem extends MediaInfo {
  id: string
  createdAt: string
}

/** The multipart field of the upload that carries the file. */
export const MEDIA_UPLOAD_FIELD = 'file'
/** The optional multipart field asking for another kind than the content's own: only `document` (send a photo as a file). */
export const MEDIA_KIND_FIELD = 'kind'

/** The `error` codes of the media routes; each answer's `message` says the details. */
export const MEDIA_ERRORS = {
  /** 413: larger than Telegram lets a bot upload (a photo 10 MB, any other file 50 MB). */
  tooLarge: 'media-too-large',
  /** 415: the bytes are not a type botsync sends (an executable, unknown bytes, …); whatever the name says. */
  unsupported: 'media-type-unsupported',
  /** 400: the multipart body has no `file` field, or it is empty. */
  missing: 'media-file-missing',
  /** 400: not multipart/form-data, a malformed body, more than one file, or a `kind` that cannot be honoured. */
  invalid: 'invalid-upload',
  /** 404: no such file in this space. */
  notFound: 'media-not-found',
  /** 416: a Range outside the file. */
  rangeNotSatisfiable: 'range-not-satisfiable',
} as const

export type MediaError = (typeof MEDIA_ERRORS)[keyof typeof MEDIA_ERRORS]

/** The largest file of `kind` a bot may upload through the Bot API. */
export function mediaByteLimit(kind: MediaKind): number {
  return kind === 'photo' ? LIMITS.photoBytes : LIMITS.fileBytes
}

export function mediaLibraryMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('media')
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/** A stored library value, or null when it is not one (a hand-made or newer shape is left out, not guessed at). */
export function parseMediaInfo(value: unknown): MediaInfo | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  if (!isMediaKind(v.kind) || typeof v.mime !== 'string' || !isCount(v.bytes) || typeof v.name !== 'string') return null
  const info: MediaInfo = { kind: v.kind, mime: v.mime, bytes: v.bytes, name: v.name }
  if (isCount(v.width) && isCount(v.height)) {
    info.width = v.width
    info.height = v.height
  }
  if (typeof v.duration === 'number' && Number.isFinite(v.duration) && v.duration >= 0) info.duration = v.duration
  return info
}

/** Only the known fields, in one order, so the same file writes the same value on every instance. */
function plainInfo(info: MediaInfo): MediaInfo {
  return {
    kind: info.kind,
    mime: info.mime,
    bytes: info.bytes,
    name: info.name,
    ...(info.width !== undefined && info.height !== undefined ? { width: info.width, height: info.height } : {}),
    ...(info.duration !== undefined ? { duration: info.duration } : {}),
  }
}

/**
 * Records a stored file in the library (server only, after the bytes are
 * committed). Writes nothing when the entry is already exactly this, so a
 * second upload of the same bytes changes no document.
 */
export function setMediaInfo(doc: Y.Doc, id: string, info: MediaInfo): boolean {
  if (!MEDIA_ID_PATTERN.test(id)) throw new TypeError(`Malformed media id: ${JSON.stringify(id)}`)
  if (!parseMediaInfo(info)) throw new TypeError(`Malformed media info: ${JSON.stringify(info)}`)
  const value = plainInfo(info)
  const map = mediaLibraryMap(doc)
  if (JSON.stringify(map.get(id) ?? null) === JSON.stringify(value)) return false
  map.set(id, value)
  return true
}

/** The library: valid entries by id, keys sorted so every replica serialises it alike. */
export function projectMediaLibrary(doc: Y.Doc): Record<string, MediaInfo> {
  const entries: [string, MediaInfo][] = []
  mediaLibraryMap(doc).forEach((value, id) => {
    const info = MEDIA_ID_PATTERN.test(id) ? parseMediaInfo(value) : null
    if (info) entries.push([id, info])
  })
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return Object.fromEntries(entries)
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import parseRange from 'range-parser'
import { MEDIA_ERRORS, MEDIA_ID_PATTERN, MEDIA_KIND_FIELD, type MediaListItem } from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { MediaStore, StoredMedia } from '../media/media-store.ts'
import { libraryEntry, type MediaUploads } from '../media/media-uploads.ts'
import { readUpload } from '../media/multipart-upload.ts'
import type { Handler } from './http-api.ts'
import { HttpError, requestToken, sendJson } from './respond.ts'

export interface MediaRoutesDeps {
  authenticator: Authenticator
  store: MediaStore
  uploads: MediaUploads
  /** The upload cap (MEDIA_MAX_BYTES, at most Telegram's 50 MB). */
  maxBytes: number
}

/**
 * The media API (see README "Media"): POST …/media (owners and editors)
 * stores one multipart file; GET …/media lists the space's files; GET and
 * HEAD …/media/:id serve one to the space's members and its bot, with its
 * sha256 as ETag (If-None-Match → 304) and single byte ranges (206/416) so
 * video players and Telegram-side fetches can seek.
 */
export function mediaRoutes(deps: MediaRoutesDeps): Record<string, Handler> {
  const serve: Handler = (request, response, { space, id }) => serveMedia(deps, request, response, space, id)
  return {
    'POST /api/spaces/:space/media': async (request, response, { space }) => {
      const { principal, deletingAt } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'editor')
      if (deletingAt !== null) throw new HttpError(409, 'space-deleting', `space "${space}" is being deleted; restore it first`)
      // A refusal is answered as soon as it is known (the size cap mid-body
      // included) while the rest of the body is read and dropped, never held:
      // closing the connection instead would make most clients fail with a
      // write error before they read the answer.
      const file = await readUpload(request, deps.maxBytes)
      if (!file) throw new HttpError(400, MEDIA_ERRORS.missing, 'the form has no file (or an empty one) in its "file" field')
      sendJson(response, 200, await deps.uploads.accept(space, file, file.fields[MEDIA_KIND_FIELD], principal.userId))
    },

    'GET /api/spaces/:space/media': async (request, response, { space }) => {
      await deps.authenticator.requireSpaceReader(requestToken(request), space)
      const media: MediaListItem[] = (await deps.store.list(space)).map((file) => ({ id: file.id, ...libraryEntry(file), createdAt: new Date(file.createdAt).toISOString() }))
      sendJson(response, 200, { media })
    },

    'GET /api/spaces/:space/media/:id': serve,
    'HEAD /api/spaces/:space/media/:id': serve,
  }
}

async function serveMedia(deps: MediaRoutesDeps, request: IncomingMessage, response: ServerResponse, space: string, id: string): Promise<void> {
  await deps.authenticator.requireSpaceReader(requestToken(request), space)
  const notFound = new HttpError(404, MEDIA_ERRORS.notFound, `space "${space}" has no media "${id.slice(0, 64)}"`)
  if (!MEDIA_ID_PATTERN.test(id)) throw notFound
  const media = await deps.store.get(space, id)
  if (!media) throw notFound
  const etag = `"${media.id}"`
  const headers: Record<string, string | number> = {
    etag,
    // Members' and the bot's only, never a shared cache's; the same id is always the same bytes.
    'cache-control': 'private, max-age=31536000, immutable',
    'accept-ranges': 'bytes',
    'last-modified': new Date(media.createdAt).toUTCString(),
    // Served on the admin's own origin: never run as a page, whatever the bytes.
    'content-security-policy': "default-src 'none'; sandbox",
  }
  if (matchesEtag(request.headers['if-none-match'], etag)) {
    response.writeHead(304, headers)
    response.end()
    return
  }
  const range = requestedRange(request, media, etag)
  if (range === 'unsatisfiable') {
    response.writeHead(416, { ...headers, 'content-range': `bytes */${media.bytes}`, 'content-type': 'application/json; charset=utf-8' })
    response.end(JSON.stringify({ error: MEDIA_ERRORS.rangeNotSatisfiable, message: `the file has ${media.bytes} bytes` }))
    return
  }
  const { start, end } = range ?? { start: 0, end: media.bytes - 1 }
  const length = end - start + 1
  headers['content-type'] = media.mime
  headers['content-length'] = length
  if (range) headers['content-range'] = `bytes ${start}-${end}/${media.bytes}`
  const status = range ? 206 : 200
  if (request.method === 'HEAD') {
    response.writeHead(status, headers)
    response.end()
    return
  }
  const bytes = await deps.store.read(space, id, start, length)
  if (!bytes) throw notFound
  response.writeHead(status, headers)
  response.end(bytes)
}

/** If-None-Match holds this ETag (or `*`); weak comparison, as RFC 9110 says for it. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header.split(',').some((tag) => {
    const trimmed = tag.trim()
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag
  })
}

/**
 * The one byte range asked for (parsed by `range-parser`), null for the whole
 * file: no Range, a malformed one, one of several ranges (the whole file is
 * a valid answer to those), or an If-Range naming other bytes.
 */
function requestedRange(request: IncomingMessage, media: StoredMedia, etag: string): { start: number; end: number } | 'unsatisfiable' | null {
  const header = request.headers.range
  if (!header) return null
  const ifRange = request.headers['if-range']
  if (ifRange !== undefined && ifRange !== etag) return null
  const ranges = parseRange(media.bytes, header, { combine: true })
  if (ranges === -1) return 'unsatisfiable'
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null
  return { start: ranges[0].start, end: ranges[0].end }
}

// One file sent to POST /api/spaces/:space/media. XMLHttpRequest rather
// than fetch: fetch still reports no upload progress in browsers (a request
// body stream gives no progress either), and the admin shows a progress bar.
import { MEDIA_UPLOAD_FIELD, type MediaUploadResult } from '@botsync/shared-docs'
import { errorText, segment } from '../api/api-client.ts'

/** What the server answers for a stored file (shared-docs' wire shape). */
export type UploadedMedia = MediaUploadResult

export type UploadResult = { ok: true; media: UploadedMedia } | { ok: false; error: string; message: string }

export interface UploadOptions {
  space: string
  file: File
  token: string | null
  /** Bytes sent so far and in all, as the browser reports them. */
  onProgress?: (loaded: number, total: number) => void
  signal?: AbortSignal
}

/** Where a space's files are uploaded and read. */
export function mediaPath(space: string, id?: string): string {
  return `/api/spaces/${segment(space)}/media${id === undefined ? '' : `/${segment(id)}`}`
}

export function uploadMedia({ space, file, token, onProgress, signal }: UploadOptions): Promise<UploadResult> {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest()
    request.open('POST', mediaPath(space))
    if (token) request.setRequestHeader('authorization', `Bearer ${token}`)
    request.responseType = 'json'
    request.upload.onprogress = (event) => onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size)
    request.onload = () => {
      const body = (request.response ?? {}) as Partial<UploadedMedia> & { error?: unknown; message?: unknown }
      if (request.status >= 200 && request.status < 300 && typeof body.id === 'string') return resolve({ ok: true, media: body as UploadedMedia })
      const error = typeof body.error === 'string' ? body.error : `http-${request.status}`
      // The server's message names the reason (the type it found, the limit it applies): it comes first.
      const message = typeof body.message === 'string' && body.message ? body.message : errorText(error)
      resolve({ ok: false, error, message })
    }
    request.onerror = () => resolve({ ok: false, error: 'network', message: errorText('network') })
    request.onabort = () => resolve({ ok: false, error: 'aborted', message: 'The upload was cancelled.' })
    signal?.addEventListener('abort', () => request.abort(), { once: true })
    const form = new FormData()
    form.append(MEDIA_UPLOAD_FIELD, file, file.name)
    request.send(form)
  })
}

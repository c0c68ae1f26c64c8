import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import busboy from 'busboy'
import contentType from 'content-type'
import { MEDIA_ERRORS, MEDIA_UPLOAD_FIELD } from '@botsync/shared-docs'
import { HttpError } from '../http/respond.ts'

/** The one file of an upload, read whole (it is sniffed, measured and stored as one bytea), with its sha256. */
export interface UploadedFile {
  content: Uint8Array
  sha256: string
  /** The name the client gave, without any folder part; for people only. */
  name: string
  /** The other (text) fields of the form. */
  fields: Record<string, string>
}

/** Room for the multipart framing around the file (boundaries, part headers, a few small fields). */
const FRAMING_BYTES = 64 * 1024
const MAX_NAME_LENGTH = 255

/**
 * Reads a multipart/form-data upload with `busboy`, keeping at most
 * `maxBytes` of file: the parser stops counting at the limit and the
 * promise rejects with 413 at once, while the rest of the body is
 * discarded as it arrives, so a 60 MB body is never held. A Content-Length that is already too large is
 * refused before a byte is read. Exactly one file, in the `file` field.
 */
export function readUpload(request: IncomingMessage, maxBytes: number): Promise<UploadedFile | null> {
  let media: string | undefined
  try {
    media = contentType.parse(request).type
  } catch {
    // Missing or unparsable: refused below.
  }
  if (media !== 'multipart/form-data') {
    return Promise.reject(new HttpError(415, MEDIA_ERRORS.invalid, `send Content-Type: multipart/form-data with the file in the "${MEDIA_UPLOAD_FIELD}" field`))
  }
  const tooLarge = () =>
    new HttpError(
      413,
      MEDIA_ERRORS.tooLarge,
      `the file is larger than ${megabytes(maxBytes)}, the most this server takes (Telegram lets a bot upload at most 50 MB); nothing was stored`,
    )
  if (Number(request.headers['content-length']) > maxBytes + FRAMING_BYTES) return Promise.reject(tooLarge())

  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy
    try {
      parser = busboy({
        headers: request.headers,
        limits: { files: 1, fileSize: maxBytes, fields: 8, fieldSize: 1024, fieldNameSize: 100, parts: 10, headerPairs: 50 },
      })
    } catch {
      reject(new HttpError(400, MEDIA_ERRORS.invalid, 'the multipart body has no boundary'))
      return
    }
    let settled = false
    const fail = (error: HttpError) => {
      if (settled) return
      settled = true
      // Stop parsing; what is still coming is read and dropped (the connection stays usable).
      request.unpipe(parser)
      request.resume()
      reject(error)
    }
    const fields: Record<string, string> = {}
    let file: { chunks: Buffer[]; size: number; hash: ReturnType<typeof createHash>; name: string; done: Promise<void> } | null = null

    parser.on('file', (field, stream, info) => {
      if (field !== MEDIA_UPLOAD_FIELD) {
        stream.resume()
        fail(new HttpError(400, MEDIA_ERRORS.invalid, `send the file in the "${MEDIA_UPLOAD_FIELD}" field, not "${field.slice(0, 100)}"`))
        return
      }
      const current = { chunks: [] as Buffer[], size: 0, hash: createHash('sha256'), name: cleanName(info.filename), done: Promise.resolve() }
      file = current
      current.done = new Promise<void>((done) => {
        stream.on('data', (chunk: Buffer) => {
          if (settled) return
          current.size += chunk.length
          current.hash.update(chunk)
          current.chunks.push(chunk)
        })
        stream.on('limit', () => fail(tooLarge()))
        stream.on('end', () => done())
      })
    })
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) fail(new HttpError(400, MEDIA_ERRORS.invalid, `the form field "${name.slice(0, 100)}" is too long`))
      else fields[name] = value
    })
    parser.on('filesLimit', () => fail(new HttpError(400, MEDIA_ERRORS.invalid, 'send one file per upload')))
    parser.on('partsLimit', () => fail(new HttpError(400, MEDIA_ERRORS.invalid, 'the form has too many parts')))
    parser.on('fieldsLimit', () => fail(new HttpError(400, MEDIA_ERRORS.invalid, 'the form has too many fields')))
    parser.on('error', (error: Error) => fail(new HttpError(400, MEDIA_ERRORS.invalid, `the multipart body is malformed: ${error.message}`)))
    parser.on('close', () => {
      const uploaded = file as typeof file
      void (uploaded?.done ?? Promise.resolve()).then(() => {
        if (settled) return
        settled = true
        if (!uploaded || uploaded.size === 0) {
          resolve(null)
          return
        }
        const joined = Buffer.concat(uploaded.chunks, uploaded.size)
        // A plain view of the bytes, not the Buffer (Yjs and PGlite want a Uint8Array; pg takes either).
        resolve({
          content: new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength),
          sha256: uploaded.hash.digest('hex'),
          name: uploaded.name,
          fields,
        })
      })
    })
    request.on('aborted', () => fail(new HttpError(400, MEDIA_ERRORS.invalid, 'the upload was aborted')))
    request.pipe(parser)
  })
}

/** The base name, without control characters, at most MAX_NAME_LENGTH characters; `file` when none is left. */
function cleanName(filename: string | undefined): string {
  const last = (filename ?? '').split(/[/\\]/).pop() ?? ''
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const base = last.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  return base.slice(0, MAX_NAME_LENGTH) || 'file'
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import contentType from 'content-type'

export class HttpError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  response.end(text)
}

/**
 * Reads a JSON body of at most `limit` bytes; clear 4xx errors otherwise.
 * The media type must be exactly application/json (parameters aside, parsed
 * by `content-type`, so `text/plain; x=application/json` is not it), and a
 * charset, if given, UTF-8: JSON has no other.
 */
export async function readJson(request: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  let media: contentType.ParsedMediaType | null = null
  try {
    media = contentType.parse(request)
  } catch {
    // Missing or unparsable Content-Type.
  }
  const charset = media?.parameters.charset?.toLowerCase()
  if (media?.type !== 'application/json' || (charset !== undefined && charset !== 'utf-8')) {
    throw new HttpError(415, 'unsupported-media-type', 'send Content-Type: application/json (UTF-8)')
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > limit) throw new HttpError(413, 'body-too-large', `the body exceeds ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'invalid-json', 'the body is not valid JSON')
  }
}

/**
 * True when the request failed because the client went away (it aborted
 * the upload or reset the connection): nothing to answer and nothing wrong
 * with the server, so it is not logged as an error.
 */
export function isClientAbort(request: IncomingMessage, error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'ECONNRESET' || code === 'ECONNABORTED' || (error as Error | null)?.message === 'aborted' || (request.destroyed && !request.complete)
}

export function bearerToken(request: IncomingMessage): string | null {
  const header = request.headers.authorization ?? ''
  const match = /^Bearer\s+(.+)$/i.exec(header)
  return match ? match[1].trim() : null
}

/** The token of `Authorization: Bearer <token>` or, for Mini App readers, `tma <initData>` (kept as `tma …`). */
export function requestToken(request: IncomingMessage): string | null {
  const header = request.headers.authorization ?? ''
  const tma = /^tma\s+(.+)$/i.exec(header)
  if (tma) return `tma ${tma[1].trim()}`
  return bearerToken(request)
}

// Parsing of Bot API request parameters: query string, JSON,
// application/x-www-form-urlencoded and multipart/form-data bodies.
import type { IncomingMessage } from 'node:http'
import { ApiFailure } from './api-failure.ts'
import type { UploadedFile } from './types.ts'

const MAX_BODY_BYTES = 60 * 1024 * 1024

/** Fields whose value is a JSON-serialized object/array when sent in a form (or as a string in JSON). */
const JSON_FIELDS = new Set([
  'reply_markup',
  'entities',
  'caption_entities',
  'allowed_updates',
  'commands',
  'scope',
  'menu_button',
  'link_preview_options',
  'reply_parameters',
  'media',
  'results',
  'rights',
  'permissions',
])

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > MAX_BODY_BYTES) throw new ApiFailure(413, 'Request Entity Too Large')
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}

export function parseParams(contentType: string | undefined, body: Buffer, query: URLSearchParams): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const [k, v] of query) params[k] = v
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (body.length > 0) {
    if (type === 'application/json' || (type === '' && looksLikeJson(body))) {
      let parsed: unknown
      try {
        parsed = JSON.parse(body.toString('utf8'))
      } catch {
        throw ApiFailure.badRequest("can't parse JSON")
      }
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(params, parsed)
      else throw ApiFailure.badRequest("can't parse JSON")
    } else if (type === 'application/x-www-form-urlencoded') {
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = v
    } else if (type === 'multipart/form-data') {
      Object.assign(params, parseMultipart(contentType!, body))
    }
  }
  for (const key of Object.keys(params)) {
    const value = params[key]
    if (JSON_FIELDS.has(key) && typeof value === 'string') params[key] = parseJsonField(key, value)
  }
  return params
}

function looksLikeJson(body: Buffer): boolean {
  const first = body.toString('utf8', 0, Math.min(body.length, 64)).trimStart()[0]
  return first === '{'
}

function parseJsonField(key: string, value: string): unknown {
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  try {
    return JSON.parse(trimmed)
  } catch {
    if (key === 'reply_markup') throw ApiFailure.badRequest("can't parse reply keyboard markup JSON object")
    if (key === 'entities' || key === 'caption_entities') throw ApiFailure.badRequest(`can't parse entities JSON object`)
    throw ApiFailure.badRequest(`can't parse ${key} JSON object`)
  }
}

function parseMultipart(contentType: string, body: Buffer): Record<string, unknown> {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  if (!match) throw ApiFailure.badRequest('invalid multipart/form-data: no boundary')
  const boundary = Buffer.from(`--${(match[1] ?? match[2])!.trim()}`)
  const out: Record<string, unknown> = {}
  let pos = body.indexOf(boundary)
  while (pos !== -1) {
    let start = pos + boundary.length
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break // closing "--"
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2
    const next = body.indexOf(boundary, start)
    if (next === -1) break
    let end = next
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2
    const part = body.subarray(start, end)
    const headerEnd = part.indexOf('\r\n\r\n')
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8')
      const content = part.subarray(headerEnd + 4)
      const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? ''
      const name = /\bname="([^"]*)"/i.exec(disposition)?.[1]
      const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1]
      const partType = /^content-type:\s*(.*)$/im.exec(headers)?.[1]?.trim()
      if (name !== undefined) {
        if (filename !== undefined) {
          // A copy of the part's bytes (not a view into the whole body), so tests can compare exactly what was uploaded.
          const file: UploadedFile = { filename, contentType: partType ?? 'application/octet-stream', size: content.length, bytes: new Uint8Array(content) }
          out[name] = file
        } else {
          out[name] = content.toString('utf8')
        }
      }
    }
    pos = next
  }
  return out
}

/** Integer parameter, from a number or a numeric string; undefined if absent or not an integer. */
export function intParam(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value)
  return undefined
}

export function boolParam(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1
}

export function stringParam(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  return undefined
}

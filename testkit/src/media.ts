// @botsync/testkit/media: media files made in the test (real formats, built
// byte by byte, so no binary fixtures) and uploads to the server's media API
// as a browser sends them (multipart/form-data, field `file`).
import { request as httpRequest } from 'node:http'
import { Readable } from 'node:stream'
import { crc32, deflateSync } from 'node:zlib'

/** A valid PNG of `width` × `height` pixels, one colour or `noise` (different `seed`s make different bytes, so different media ids). */
export function pngBytes(width: number, height: number, seed = 0, options: { noise?: boolean } = {}): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // truecolour
  // Each row: filter byte 0, then RGB.
  const row = Buffer.alloc(1 + width * 3)
  for (let x = 0; x < width; x++) row.set([seed & 0xff, (seed >> 8) & 0xff, 0x80], 1 + x * 3)
  const pixels = options.noise ? noisePixels(width, height, seed) : Buffer.concat(Array.from({ length: height }, () => row))
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ])
  return new Uint8Array(png)
}

/**
 * Rows of pseudo-random RGB (each after its filter byte 0), which deflate
 * cannot shrink: a PNG as large as a real photo of that size (a 1,800 ×
 * 1,900 one is ~10 MB). xorshift32 from `seed`, so the bytes are the same
 * every run.
 */
function noisePixels(width: number, height: number, seed: number): Buffer {
  const stride = 1 + width * 3
  const pixels = Buffer.alloc(stride * height)
  let state = (seed * 2654435761) >>> 0 || 1
  for (let y = 0; y < height; y++) {
    for (let at = y * stride + 1; at < (y + 1) * stride; at++) {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      state >>>= 0
      pixels[at] = state & 0xff
    }
  }
  return pixels
}

/** A 1 × 1 GIF (Telegram sends GIFs as animations). */
export function gifBytes(): Uint8Array {
  return new Uint8Array(Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'))
}

/** The start of a 64-bit Linux executable (an ELF header and some code-like bytes): what a `.jpg` that is really a program looks like. */
export function elfBytes(): Uint8Array {
  const header = Buffer.alloc(64)
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]) // \x7fELF, 64-bit, little-endian, version 1
  header.writeUInt16LE(2, 16) // ET_EXEC
  header.writeUInt16LE(0x3e, 18) // x86-64
  header.writeUInt32LE(1, 20)
  return new Uint8Array(Buffer.concat([header, Buffer.alloc(4096, 0x90)]))
}

/** A WAV file of `seconds` of silence (8 kHz, 8-bit mono PCM). */
export function wavBytes(seconds: number): Uint8Array {
  const rate = 8000
  const data = Buffer.alloc(rate * seconds, 0x80)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0, 'latin1')
  header.writeUInt32LE(36 + data.length, 4)
  header.write('WAVEfmt ', 8, 'latin1')
  header.writeUInt32LE(16, 16) // fmt chunk size
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE(rate, 28) // bytes per second
  header.writeUInt16LE(1, 32) // block align
  header.writeUInt16LE(8, 34) // bits per sample
  header.write('data', 36, 'latin1')
  header.writeUInt32LE(data.length, 40)
  return new Uint8Array(Buffer.concat([header, data]))
}

/** A tiny PDF document. */
export function pdfBytes(): Uint8Array {
  return new Uint8Array(Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', 'latin1'))
}

export interface UploadAnswer {
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the route answers
  body: any
  headers: Headers
}

/** POST /api/spaces/:space/media as the admin's upload does: FormData with the file (its name and declared type as given) and optional fields. */
export async function uploadMedia(
  baseUrl: string,
  space: string,
  token: string,
  file: { bytes: Uint8Array; name: string; type?: string },
  fields: Record<string, string> = {},
): Promise<UploadAnswer> {
  const form = new FormData()
  for (const [key, value] of Object.entries(fields)) form.append(key, value)
  form.append('file', new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type ?? 'application/octet-stream' }), file.name)
  const response = await fetch(`${baseUrl}/api/spaces/${space}/media`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers }
}

/**
 * Uploads a file of `fileBytes` bytes that starts with `head` (then zeros),
 * streamed in 1 MB pieces with chunked transfer encoding (no Content-Length,
 * so the server cannot refuse it up front), never holding the whole body.
 * Resolves with the answer and how many bytes of the body the server had
 * taken when it answered; a write error after the answer (the server closed
 * the connection) is expected and ignored.
 */
export function streamUpload(
  baseUrl: string,
  space: string,
  token: string,
  head: Uint8Array,
  fileBytes: number,
  name = 'big.bin',
): Promise<Omit<UploadAnswer, 'headers'> & { sentBytes: number }> {
  const boundary = `----botsync-test-${Math.random().toString(16).slice(2)}`
  const prologue = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`)
  const piece = Buffer.alloc(1024 * 1024)
  let sentBytes = 0
  let remaining = fileBytes - head.length
  let answered = false
  function* parts(): Generator<Buffer> {
    yield prologue
    yield Buffer.from(head)
    while (remaining > 0 && !answered) {
      const size = Math.min(remaining, piece.length)
      remaining -= size
      sentBytes += size
      yield size === piece.length ? piece : piece.subarray(0, size)
    }
    yield epilogue
  }
  const url = new URL(`${baseUrl}/api/spaces/${space}/media`)
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` } }, (response) => {
      answered = true
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null, sentBytes })
      })
      response.on('error', reject)
    })
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    Readable.from(parts()).pipe(req)
  })
}

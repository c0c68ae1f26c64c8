// @botsync/testkit/media: real media files for tests — a valid PNG of any
// size whose pixels (and so SHA-256) depend on a seed, so two fixtures are
// two different files.
import { createHash } from 'node:crypto'
import { crc32, deflateSync } from 'node:zlib'

/** A valid RGB PNG, `width` × `height`, filled with a colour derived from `seed`; `padding` adds bytes (a tEXt chunk) to reach a size. */
export function pngFile(width: number, height: number, seed = 0, padding = 0): Uint8Array {
  const [r, g, b] = createHash('sha256').update(`png:${seed}`).digest()
  const row = Buffer.alloc(1 + width * 3)
  for (let x = 0; x < width; x++) row.set([r!, g!, b!], 1 + x * 3)
  const raw = Buffer.concat(Array.from({ length: height }, () => row))
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit RGB, no interlace
  const chunks = [chunk('IHDR', header), chunk('IDAT', deflateSync(raw))]
  if (padding > 0) chunks.push(chunk('tEXt', Buffer.concat([Buffer.from('pad\0'), Buffer.alloc(padding, 0x61)])))
  chunks.push(chunk('IEND', Buffer.alloc(0)))
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]))
}

/** The media id botsync gives a file: its SHA-256, lowercase hex. */
export function mediaIdOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

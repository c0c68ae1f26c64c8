// Draws the admin's app icons (the web app manifest's, for installing it) and
// writes them to public/icons/: a chat bubble on the brand's green, as SVG
// and as the PNG sizes Chromium and Android ask for (192, 512, and a
// maskable 512 whose bubble stays inside the safe circle). Run it again
// after changing the drawing: `node admin-svelte/scripts/make-icons.ts`.
// The PNGs are drawn and encoded here (a few lines of zlib) rather than with
// an image library: sharp & co. are native dependencies, heavy for three
// committed files that change once in a while.
import { writeFileSync } from 'node:fs'
import { crc32, deflateSync } from 'node:zlib'

const OUT = new URL('../public/icons/', import.meta.url)
const ACCENT = [0x2f, 0x6f, 0x62] as const
const WHITE = [0xff, 0xff, 0xff] as const

/** The drawing in a 0..1 square: [background radius, bubble box, tail, the two text lines], scaled by `inset` towards the centre. */
function shapes(inset: number) {
  const s = (v: number) => 0.5 + (v - 0.5) * inset
  return {
    bubble: { x0: s(0.2), y0: s(0.24), x1: s(0.8), y1: s(0.68), r: 0.1 * inset },
    tail: [
      [s(0.3), s(0.64)],
      [s(0.3), s(0.8)],
      [s(0.46), s(0.66)],
    ] as [number, number][],
    lines: [
      { x0: s(0.31), y0: s(0.37), x1: s(0.69), y1: s(0.42) },
      { x0: s(0.31), y0: s(0.5), x1: s(0.57), y1: s(0.55) },
    ],
  }
}

/** Signed distance to a rounded box (negative inside). */
function roundedBox(x: number, y: number, b: { x0: number; y0: number; x1: number; y1: number; r?: number }): number {
  const r = b.r ?? Math.min(b.x1 - b.x0, b.y1 - b.y0) / 2
  const cx = (b.x0 + b.x1) / 2
  const cy = (b.y0 + b.y1) / 2
  const qx = Math.abs(x - cx) - ((b.x1 - b.x0) / 2 - r)
  const qy = Math.abs(y - cy) - ((b.y1 - b.y0) / 2 - r)
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r
}

function inTriangle(x: number, y: number, [a, b, c]: [number, number][]): boolean {
  const side = (p: [number, number], q: [number, number]) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0])
  const d1 = side(a, b)
  const d2 = side(b, c)
  const d3 = side(c, a)
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0))
}

/** RGBA pixels, 4×4 supersampled. `full`: the background fills the square (maskable); otherwise a rounded square. */
function draw(size: number, full: boolean): Buffer {
  const inset = full ? 0.8 : 1
  const { bubble, tail, lines } = shapes(inset)
  const pixels = Buffer.alloc(size * size * 4)
  const samples = 4
  for (let py = 0; py < size; py++)
    for (let px = 0; px < size; px++) {
      let background = 0
      let white = 0
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size
          const y = (py + (sy + 0.5) / samples) / size
          if (!full && roundedBox(x, y, { x0: 0, y0: 0, x1: 1, y1: 1, r: 0.22 }) > 0) continue
          background += 1
          const onBubble = roundedBox(x, y, bubble) <= 0 || inTriangle(x, y, tail)
          const onLine = lines.some((line) => roundedBox(x, y, line) <= 0)
          if (onBubble && !onLine) white += 1
        }
      const n = samples * samples
      const alpha = background / n
      const w = background === 0 ? 0 : white / background
      const at = (py * size + px) * 4
      for (let c = 0; c < 3; c++) pixels[at + c] = Math.round(ACCENT[c] * (1 - w) + WHITE[c] * w)
      pixels[at + 3] = Math.round(alpha * 255)
    }
  return pixels
}

function png(size: number, rgba: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.from(type, 'latin1')
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head, data])))
    return Buffer.concat([length, head, data, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // RGBA
  const rows = Buffer.alloc((size * 4 + 1) * size)
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

function svg(): string {
  const { bubble: b, tail, lines } = shapes(1)
  const u = (v: number) => Math.round(v * 512)
  const rect = (r: { x0: number; y0: number; x1: number; y1: number }, radius: number, fill: string) =>
    `<rect x="${u(r.x0)}" y="${u(r.y0)}" width="${u(r.x1 - r.x0)}" height="${u(r.y1 - r.y0)}" rx="${u(radius)}" fill="${fill}"/>`
  const accent = `#${ACCENT.map((c) => c.toString(16).padStart(2, '0')).join('')}`
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">`,
    rect({ x0: 0, y0: 0, x1: 1, y1: 1 }, 0.22, accent),
    rect(b, b.r, '#fff'),
    `<polygon points="${tail.map(([x, y]) => `${u(x)},${u(y)}`).join(' ')}" fill="#fff"/>`,
    ...lines.map((line) => rect(line, (line.y1 - line.y0) / 2, accent)),
    `</svg>`,
    '',
  ].join('\n')
}

writeFileSync(new URL('icon.svg', OUT), svg())
for (const size of [192, 512]) writeFileSync(new URL(`icon-${size}.png`, OUT), png(size, draw(size, false)))
writeFileSync(new URL('maskable-512.png', OUT), png(512, draw(512, true)))

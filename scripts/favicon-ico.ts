// Draws admin-svelte/public/favicon.ico from favicon.svg: browsers ask for
// /favicon.ico on their own (a bookmark, a page without <link rel="icon">),
// and some take only ICO there. Run after changing the SVG:
//   node scripts/favicon-ico.ts
// Chromium rasterises the SVG at 16, 32 and 48 px; the ICO container
// (a 6-byte header, a 16-byte entry per image, then the PNGs, which ICO
// allows since Windows Vista) is written by hand: it is 20 lines, and no
// well-kept package does only this without pulling in an image library.
import { readFileSync, writeFileSync } from 'node:fs'
import { launchChromium } from '@botsync/testkit/browser'

const dir = new URL('../admin-svelte/public/', import.meta.url)
const svg = readFileSync(new URL('favicon.svg', dir), 'utf8')
const sizes = [16, 32, 48]

const browser = await launchChromium()
const pngs: Buffer[] = []
try {
  const page = await browser.newPage()
  for (const size of sizes) {
    await page.setViewportSize({ width: size, height: size })
    await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`)
    pngs.push(await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }))
  }
} finally {
  await browser.close()
}

const header = Buffer.alloc(6)
header.writeUInt16LE(0, 0) // reserved
header.writeUInt16LE(1, 2) // 1: icon
header.writeUInt16LE(pngs.length, 4)
let offset = 6 + 16 * pngs.length
const entries = pngs.map((png, index) => {
  const entry = Buffer.alloc(16)
  entry.writeUInt8(sizes[index] % 256, 0) // width (0 would mean 256)
  entry.writeUInt8(sizes[index] % 256, 1) // height
  entry.writeUInt16LE(1, 4) // colour planes
  entry.writeUInt16LE(32, 6) // bits per pixel
  entry.writeUInt32LE(png.length, 8)
  entry.writeUInt32LE(offset, 12)
  offset += png.length
  return entry
})
writeFileSync(new URL('favicon.ico', dir), Buffer.concat([header, ...entries, ...pngs]))
console.log(`favicon.ico: ${sizes.join(', ')} px, ${offset} bytes`)

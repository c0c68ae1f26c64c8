// The fake Bot API's media methods: uploads (multipart, attach:// in albums)
// become file_ids this bot — and only this bot — may send again; messages
// and refusals have Telegram's shapes and wording.
import { Telegraf } from 'telegraf'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeBotApi } from '../src/fake-bot-api/fake-bot-api.ts'
import { FakeTelegram } from '../src/fake-bot-api/fake-telegram.ts'
import type { ApiResponse, Message, SimUser } from '../src/fake-bot-api/types.ts'
import { pngBytes } from '../src/media.ts'

const TOKEN = '123456:TEST-token_abc'
const alice: SimUser = { id: 1001, first_name: 'Alice' }
const keyboard = { inline_keyboard: [[{ text: 'Go', callback_data: 'b:go' }]] }

let api: FakeBotApi

beforeEach(async () => {
  api = new FakeBotApi({ token: TOKEN })
  await api.start()
  api.addUser(alice)
})

afterEach(async () => {
  await api.stop()
})

type Field = string | number | object | { bytes: Uint8Array; filename: string }

/** One multipart request as a client builds it: strings as fields, objects as JSON, files as parts. */
async function upload<T = Message>(method: string, fields: Record<string, Field>, on: FakeBotApi = api, token = TOKEN): Promise<{ status: number; body: ApiResponse<T> }> {
  const form = new FormData()
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'object' && 'bytes' in value) form.set(key, new Blob([value.bytes as Uint8Array<ArrayBuffer>]), value.filename)
    else form.set(key, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
  const res = await fetch(`${on.apiRoot}/bot${token}/${method}`, { method: 'POST', body: form })
  return { status: res.status, body: (await res.json()) as ApiResponse<T> }
}

async function json<T = Message>(method: string, params: Record<string, unknown>): Promise<{ status: number; body: ApiResponse<T> }> {
  const res = await fetch(`${api.apiRoot}/bot${TOKEN}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) })
  return { status: res.status, body: (await res.json()) as ApiResponse<T> }
}

function result<T>(answer: { status: number; body: ApiResponse<T> }): T {
  if (!answer.body.ok) throw new Error(`expected success, got ${answer.status} ${answer.body.description}`)
  return answer.body.result
}

const refusal = (status: number, description: string) => ({ status, body: { ok: false, error_code: status, description } })

describe('FakeBotApi — single media', () => {
  it('sendPhoto takes an upload once, then its file_id; the message has photo sizes, caption, caption_entities and the keyboard', async () => {
    const bytes = pngBytes(1000, 500, 1)
    const first = result(
      await upload('sendPhoto', {
        chat_id: alice.id,
        photo: { bytes, filename: 'cat.png' },
        caption: 'Hi 👋 there',
        caption_entities: [{ type: 'bold', offset: 3, length: 2 }],
        reply_markup: keyboard,
      }),
    )
    expect(first.photo!.map((p) => [p.width, p.height])).toEqual([
      [90, 45],
      [320, 160],
      [800, 400],
      [1000, 500],
    ])
    expect(first.photo!.at(-1)!.file_size).toBe(bytes.length)
    expect(new Set(first.photo!.map((p) => p.file_id)).size).toBe(4)
    expect(first.caption).toBe('Hi 👋 there')
    expect(first.caption_entities).toEqual([{ type: 'bold', offset: 3, length: 2 }])
    expect(first.reply_markup).toEqual(keyboard)
    expect(first).not.toHaveProperty('text')

    const fileId = first.photo!.at(-1)!.file_id
    const again = result(await json('sendPhoto', { chat_id: alice.id, photo: fileId }))
    expect(again.photo).toEqual(first.photo)
    expect(again).not.toHaveProperty('caption')

    const [sent, resent] = api.callsOf('sendPhoto')
    expect(sent!.files).toEqual([{ field: 'photo', kind: 'photo', source: 'upload', fileId, size: bytes.length, bytes, filename: 'cat.png' }])
    expect(resent!.files).toEqual([{ field: 'photo', kind: 'photo', source: 'file_id', fileId, size: bytes.length }])
    expect(api.messagesIn(alice.id).map((m) => m.photo?.at(-1)?.file_id)).toEqual([fileId, fileId])
  })

  it('a file_id is refused when unknown, of another bot, or of another kind; a URL is refused as undownloadable', async () => {
    const doc = result(await upload('sendDocument', { chat_id: alice.id, document: { bytes: new TextEncoder().encode('%PDF-1.4 x'), filename: 'menu.pdf' } }))
    expect(doc.document).toEqual({ file_id: expect.any(String), file_unique_id: expect.any(String), file_size: 10, mime_type: 'application/pdf', file_name: 'menu.pdf' })
    expect(await json('sendPhoto', { chat_id: alice.id, photo: doc.document!.file_id })).toEqual(refusal(400, "Bad Request: can't use file of type Document as Photo"))
    expect(await json('sendDocument', { chat_id: alice.id, document: 'BQACAgIAAxkDAAIunknown' })).toEqual(refusal(400, 'Bad Request: wrong file identifier/HTTP URL specified'))
    expect(await json('sendDocument', { chat_id: alice.id, document: 'https://example.com/menu.pdf' })).toEqual(refusal(400, 'Bad Request: failed to get HTTP URL content'))
    expect(await json('sendDocument', { chat_id: alice.id })).toEqual(refusal(400, 'Bad Request: there is no document in the request'))

    // Two bots behind one root: a file_id is one bot's own.
    const telegram = new FakeTelegram()
    await telegram.start()
    try {
      const one = telegram.bot({ token: '111:one' })
      const two = telegram.bot({ token: '222:two' })
      one.addUser(alice)
      two.addUser(alice)
      const photo = result(await upload('sendPhoto', { chat_id: alice.id, photo: { bytes: pngBytes(10, 10), filename: 'a.png' } }, one, '111:one'))
      const id = photo.photo!.at(-1)!.file_id
      expect((await upload('sendPhoto', { chat_id: alice.id, photo: id }, one, '111:one')).status).toBe(200)
      expect(await upload('sendPhoto', { chat_id: alice.id, photo: id }, two, '222:two')).toEqual(refusal(400, 'Bad Request: wrong file identifier/HTTP URL specified'))
    } finally {
      await telegram.stop()
    }
  })

  it('refuses a caption over 1024 characters, entities outside it, a photo over 10 MB, an empty file and bytes that are no image', async () => {
    const photo = { bytes: pngBytes(20, 20), filename: 'p.png' }
    expect(await upload('sendPhoto', { chat_id: alice.id, photo, caption: 'x'.repeat(1025) })).toEqual(refusal(400, 'Bad Request: message caption is too long'))
    expect((await upload('sendPhoto', { chat_id: alice.id, photo, caption: 'x'.repeat(1024) })).status).toBe(200)
    const beyond = await upload('sendPhoto', { chat_id: alice.id, photo, caption: 'short', caption_entities: [{ type: 'bold', offset: 2, length: 9 }] })
    expect(beyond.status).toBe(400)
    expect(beyond.body.ok === false && beyond.body.description).toMatch(/^Bad Request: can't parse entities: /)

    // A real PNG with 10 MB after its end: image readers stop at IEND, the size counts it all.
    const big = new Uint8Array(Buffer.concat([pngBytes(20, 20, 2), Buffer.alloc(10 * 1024 * 1024)]))
    expect(await upload('sendPhoto', { chat_id: alice.id, photo: { bytes: big, filename: 'big.png' } })).toEqual(
      refusal(400, `Bad Request: file of size ${big.length} bytes is too big for a photo; the maximum size is 10485760 bytes`),
    )
    // The same bytes are a fine document.
    expect((await upload('sendDocument', { chat_id: alice.id, document: { bytes: big, filename: 'big.png' } })).status).toBe(200)
    expect(await upload('sendPhoto', { chat_id: alice.id, photo: { bytes: new Uint8Array(0), filename: 'e.png' } })).toEqual(refusal(400, 'Bad Request: file must be non-empty'))
    expect(await upload('sendPhoto', { chat_id: alice.id, photo: { bytes: new TextEncoder().encode('not an image'), filename: 'x.png' } })).toEqual(
      refusal(400, 'Bad Request: IMAGE_PROCESS_FAILED'),
    )
    // Refused sends left nothing in the chat: only the photo with the longest caption and the document are there.
    expect(api.messagesIn(alice.id).map((m) => (m.photo ? 'photo' : m.document ? 'document' : 'other'))).toEqual(['photo', 'document'])
  })

  it('video, animation, audio and voice come back as Telegram describes them', async () => {
    const file = (name: string) => ({ bytes: new TextEncoder().encode(`${name} bytes`), filename: name })
    const video = result(await upload('sendVideo', { chat_id: alice.id, video: file('clip.mp4'), width: 640, height: 360, duration: 3 }))
    expect(video.video).toMatchObject({ width: 640, height: 360, duration: 3, mime_type: 'video/mp4', file_name: 'clip.mp4', file_size: 14 })
    const animation = result(await upload('sendAnimation', { chat_id: alice.id, animation: file('loop.mp4') }))
    expect(animation.animation!.file_id).toBe(animation.document!.file_id)
    const audio = result(await upload('sendAudio', { chat_id: alice.id, audio: file('song.mp3'), title: 'Song' }))
    expect(audio.audio).toMatchObject({ mime_type: 'audio/mpeg', title: 'Song', file_name: 'song.mp3' })
    const voice = result(await upload('sendVoice', { chat_id: alice.id, voice: file('note.ogg') }))
    expect(voice.voice).toEqual({ file_id: expect.any(String), file_unique_id: expect.any(String), file_size: 14, mime_type: 'audio/ogg', duration: 0 })
    expect(await json('sendAudio', { chat_id: alice.id, audio: voice.voice!.file_id })).toEqual(refusal(400, "Bad Request: can't use file of type VoiceNote as Audio"))
  })

  it('editMessageText on a media message is refused as Telegram does', async () => {
    const photo = result(await upload('sendPhoto', { chat_id: alice.id, photo: { bytes: pngBytes(8, 8), filename: 'p.png' }, reply_markup: keyboard }))
    expect(await json('editMessageText', { chat_id: alice.id, message_id: photo.message_id, text: 'new' })).toEqual(
      refusal(400, 'Bad Request: there is no text in the message to edit'),
    )
  })
})

describe('FakeBotApi — sendMediaGroup', () => {
  it('sends an album of uploads (attach://) and file_ids sharing one media_group_id, the caption on its item', async () => {
    const known = result(await upload('sendPhoto', { chat_id: alice.id, photo: { bytes: pngBytes(30, 30, 7), filename: 'k.png' } })).photo!.at(-1)!.file_id
    const one = pngBytes(40, 30, 8)
    const two = pngBytes(30, 40, 9)
    const album = result<Message[]>(
      await upload('sendMediaGroup', {
        chat_id: alice.id,
        media: [
          { type: 'photo', media: 'attach://first', caption: 'Our café ☕', caption_entities: [{ type: 'italic', offset: 4, length: 4 }] },
          { type: 'photo', media: 'attach://second' },
          { type: 'photo', media: known },
        ],
        first: { bytes: one, filename: 'one.png' },
        second: { bytes: two, filename: 'two.png' },
      }),
    )
    expect(album).toHaveLength(3)
    expect(new Set(album.map((m) => m.media_group_id)).size).toBe(1)
    expect(album[0]!.media_group_id).toMatch(/^\d+$/)
    expect(album.map((m) => m.message_id)).toEqual([2, 3, 4])
    expect(album[0]).toMatchObject({ caption: 'Our café ☕', caption_entities: [{ type: 'italic', offset: 4, length: 4 }] })
    expect(album[1]).not.toHaveProperty('caption')
    expect(album.map((m) => m.photo!.at(-1)!.width)).toEqual([40, 30, 30])
    const call = api.callsOf('sendMediaGroup')[0]!
    expect(call.files!.map((f) => [f.field, f.source, f.size])).toEqual([
      ['media[0]', 'upload', one.length],
      ['media[1]', 'upload', two.length],
      ['media[2]', 'file_id', expect.any(Number)],
    ])
    expect(call.files![0]!.bytes).toEqual(one)
    expect(call.messages).toEqual(album)
    expect(call.message).toEqual(album[0])
  })

  it("refuses albums Telegram refuses, with Telegram's wording, and keeps none of their uploads", async () => {
    const part = { bytes: pngBytes(10, 10, 3), filename: 'p.png' }
    const photo = { type: 'photo', media: 'attach://p' }
    const cases: [unknown, string][] = [
      [[], 'Bad Request: there are no messages to send'],
      [Array.from({ length: 11 }, () => photo), 'Bad Request: too many messages to send as an album'],
      [[photo, { type: 'document', media: 'attach://p' }], "Bad Request: document can't be mixed with other media types"],
      [[{ type: 'audio', media: 'attach://p' }, photo], "Bad Request: audio can't be mixed with other media types"],
      [[photo, { type: 'animation', media: 'attach://p' }], `Bad Request: can't parse InputMedia: type "animation" can't be used in sendMediaGroup`],
      [[photo, { type: 'photo', media: 'attach://missing' }], "Bad Request: can't parse InputMedia: media not found"],
    ]
    for (const [media, description] of cases) {
      expect(await upload('sendMediaGroup', { chat_id: alice.id, media: media as object, p: part }), description).toEqual(refusal(400, description))
    }
    expect(await json('sendMediaGroup', { chat_id: alice.id })).toEqual(refusal(400, 'Bad Request: parameter "media" is required'))
    expect(api.messagesIn(alice.id)).toEqual([])
    // The refused album's upload got no file_id that works.
    const refusedId = api.callsOf('sendMediaGroup')[2]!.files![0]!.fileId
    expect(await json('sendPhoto', { chat_id: alice.id, photo: refusedId })).toEqual(refusal(400, 'Bad Request: wrong file identifier/HTTP URL specified'))
  })
})

describe('FakeBotApi — media through telegraf', () => {
  it("telegraf's Buffer uploads arrive as multipart with the exact bytes; an album goes as attach:// parts", async () => {
    const bot = new Telegraf(TOKEN, { telegram: { apiRoot: api.apiRoot } })
    const bytes = pngBytes(64, 48, 5)
    const sent = await bot.telegram.sendPhoto(
      alice.id,
      { source: Buffer.from(bytes), filename: 'x.png' },
      { caption: 'Caption', caption_entities: [{ type: 'bold', offset: 0, length: 7 }] },
    )
    expect(sent.caption_entities).toEqual([{ type: 'bold', offset: 0, length: 7 }])
    expect(api.callsOf('sendPhoto')[0]!.files![0]).toMatchObject({ source: 'upload', bytes })
    const fileId = sent.photo.at(-1)!.file_id
    const album = await bot.telegram.sendMediaGroup(alice.id, [
      { type: 'photo', media: fileId, caption: 'Two' },
      { type: 'photo', media: { source: Buffer.from(pngBytes(8, 8, 6)), filename: 'y.png' } },
    ])
    expect(album.map((m) => m.media_group_id)).toEqual([album[0]!.media_group_id, album[0]!.media_group_id])
    const call = api.callsOf('sendMediaGroup')[0]!
    expect((call.params['media'] as { media: string }[])[1]!.media).toMatch(/^attach:\/\/[0-9a-f]{32}$/)
    expect(call.files!.map((f) => f.source)).toEqual(['file_id', 'upload'])
  })
})

// A step's media reaches Telegram: the file's bytes from the server's media
// endpoint, uploaded once per bot (multipart), Telegram's file_id after
// that; an album as sendMediaGroup; media that cannot be sent is skipped
// like a broken step, with one log line.
import { createHash, randomInt } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectSpace, setStepMedia, setStepMessage, type MessageEntity, type StepMedia } from '@botsync/shared-docs'
import { FakeBotApi, type RecordedCall, type SimUser } from '@botsync/testkit/fake-bot-api'
import { pdfBytes, pngBytes, uploadMedia } from '@botsync/testkit/media'
import { draftsOf, publishReleaseForTest, setPublishModeForTest } from '@botsync/testkit/publish'
import { afterEach, describe, expect, it } from 'vitest'
import { startBot, type BotHandle } from '../src/start-bot.ts'
import { BOT_TOKEN, Scene, TELEGRAM_TOKEN, userToken, waitFor } from './helpers.ts'

const alice: SimUser = { id: 4001, first_name: 'Alice' }
const bob: SimUser = { id: 4002, first_name: 'Bob' }

/** UTF-16 code units, counted without String#length. */
const u16 = (s: string): number => Buffer.from(s, 'utf16le').length / 2
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
/**
 * A PNG no earlier run uploaded: the bot remembers file_ids per bot and file
 * in PostgreSQL, and every run's fake Telegram is new (it would refuse an
 * old run's file_id, and the bot would upload again).
 */
const freshPng = (width: number, height: number) => pngBytes(width, height, randomInt(1 << 16))

let scene: Scene
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  await scene?.close()
})

/** Stores a file through the server's media API as an editor does; its id. */
async function upload(bytes: Uint8Array, name: string, type = 'image/png'): Promise<string> {
  const token = await userToken(scene.server, 'editor', scene.space)
  const answer = await uploadMedia(`http://127.0.0.1:${scene.port}`, scene.space, token, { bytes, name, type })
  expect([200, 201], JSON.stringify(answer.body)).toContain(answer.status)
  expect(answer.body.id).toBe(sha256(bytes))
  return answer.body.id as string
}

/** Sets a step's media as an admin and waits until the bot's replica has it (and, with `inLibrary`, the library entries of its files). */
async function setMedia(scenario: string, stepId: string, media: StepMedia, inLibrary = true, bot: BotHandle = scene.bot!): Promise<void> {
  const admin = await scene.admin(`scenario/${scenario}`)
  setStepMedia(admin.doc, stepId, media)
  const want = JSON.stringify(media)
  await waitFor(() => {
    const space = projectSpace(bot.replica.docs())
    const listed = !inLibrary || media.items.every((item) => space.media?.[item.id] !== undefined)
    return listed && JSON.stringify(space.scenarioDocs[scenario]?.steps[stepId]?.media) === want
  }, "the step's media to reach the bot")
}

/** The bot's next successful call of `method` to `user` after `act`. */
async function next(api: FakeBotApi, user: SimUser, method: string | string[], act: () => void): Promise<RecordedCall> {
  const since = api.mark()
  act()
  return api.waitForCall((c) => c.status === 200 && String(c.params['chat_id']) === String(user.id), { since, method, timeoutMs: 10_000 })
}

describe('media steps', () => {
  it("a photo step uploads the exact bytes once, then sends Telegram's file_id — remembered in PostgreSQL, per bot", async () => {
    scene = await Scene.start()
    const { api } = scene
    const bytes = freshPng(640, 480)
    const id = await upload(bytes, 'welcome.png')
    await setMedia('onboarding', 'welcome', { items: [{ id, kind: 'photo' }] })

    const first = await next(api, alice, 'sendPhoto', () => api.sendCommand(alice, 'start', 'onboarding'))
    expect(first.status).toBe(200)
    expect(first.files).toEqual([expect.objectContaining({ field: 'photo', source: 'upload', size: bytes.length, bytes })])
    expect(first.message!.caption).toBe("Hi! Let's get you set up. It takes less than a minute.")
    expect(first.message!.reply_markup!.inline_keyboard.flat().map((b) => b.callback_data)).toEqual(['b:ob_continue', 'b:ob_later'])
    const fileId = first.message!.photo!.at(-1)!.file_id

    const second = await next(api, bob, 'sendPhoto', () => api.sendCommand(bob, 'start', 'onboarding'))
    expect(second.files).toEqual([{ field: 'photo', kind: 'photo', source: 'file_id', fileId, size: bytes.length }])
    expect(second.params['photo']).toBe(fileId)
    expect(second.message!.reply_markup).toEqual(first.message!.reply_markup)

    // A restarted bot (nothing in memory) finds the file_id in PostgreSQL.
    await scene.stopBot()
    await scene.startBot()
    const afterRestart = await next(api, alice, 'sendPhoto', () => api.sendCommand(alice, 'start', 'onboarding'))
    expect(afterRestart.files![0]!.source).toBe('file_id')
    const rows = await scene.sessions.query<{ bot_id: string; file_id: string }>('SELECT bot_id::text, file_id FROM bot_media_files WHERE media_id = $1', [id])
    expect(rows).toEqual([{ bot_id: TELEGRAM_TOKEN.split(':')[0], file_id: fileId }])

    // Another bot on the same space has no file_id of its own yet: it uploads.
    const otherApi = new FakeBotApi({ token: '654321:OTHER-token', botUsername: 'other_bot' })
    await otherApi.start()
    cleanups.push(() => otherApi.stop())
    const other = await startBot(
      {
        telegramToken: '654321:OTHER-token',
        telegramApiRoot: otherApi.apiRoot,
        serverUrl: scene.wsUrl,
        serviceToken: BOT_TOKEN,
        space: scene.space,
        replicaFile: join(mkdtempSync(join(tmpdir(), 'botsync-bot-')), 'replica.json'),
        logLevel: 'debug',
      },
      { sessions: scene.sessions, log: scene.logs.log, activityFlushMs: 100, replicaSaveDelayMs: 50 },
    )
    cleanups.push(() => other.stop())
    const theirs = await next(otherApi, alice, 'sendPhoto', () => otherApi.sendCommand(alice, 'start', 'onboarding'))
    expect(otherApi.callsOf('sendPhoto')).toHaveLength(1)
    expect(theirs.status).toBe(200)
    expect(theirs.files![0]).toMatchObject({ source: 'upload', bytes })
  })

  it('a file_id Telegram refuses is forgotten and the file uploaded again, once', async () => {
    scene = await Scene.start()
    const { api } = scene
    const bytes = freshPng(32, 32)
    const id = await upload(bytes, 'again.png')
    await setMedia('onboarding', 'welcome', { items: [{ id, kind: 'photo' }] })
    await next(api, alice, 'sendPhoto', () => api.sendCommand(alice, 'start', 'onboarding'))
    const remembered = async () => (await scene.sessions.query<{ file_id: string }>('SELECT file_id FROM bot_media_files WHERE media_id = $1', [id]))[0]?.file_id
    await waitFor(async () => (await remembered()) !== undefined, 'the file_id to be remembered')
    // As if Telegram had lost the file: the remembered file_id is one it does not know.
    await scene.sessions.query("UPDATE bot_media_files SET file_id = 'AgACAgIAAxkDAAIlost' WHERE media_id = $1", [id])
    await scene.stopBot()
    await scene.startBot()

    const since = api.mark()
    api.sendCommand(alice, 'start', 'onboarding')
    await api.waitForCall((c) => c.status === 200, { since, method: 'sendPhoto', timeoutMs: 10_000 })
    const tries = api.calls.slice(since).filter((c) => c.method === 'sendPhoto')
    expect(tries.map((c) => [c.status, c.files?.[0]?.source])).toEqual([
      [400, 'file_id'],
      [200, 'upload'],
    ])
    expect(tries[0]!.response).toMatchObject({ description: 'Bad Request: wrong file identifier/HTTP URL specified' })
    const newId = tries[1]!.message!.photo!.at(-1)!.file_id
    await waitFor(async () => (await remembered()) === newId, 'the new file_id to be remembered')
  })

  it('an album step sends sendMediaGroup with attach:// uploads and the caption with its entities on the first item', async () => {
    scene = await Scene.start()
    const { api } = scene
    const one = freshPng(300, 200)
    const two = freshPng(200, 300)
    const ids = [await upload(one, 'one.png'), await upload(two, 'two.png')]
    const support = await scene.admin('scenario/support')
    const message = 'Write to us 📮 any time'
    const entities: MessageEntity[] = [{ type: 'bold', offset: u16('Write to us 📮 '), length: u16('any time') }]
    setStepMessage(support.doc, 'contact', message, entities)
    await setMedia('support', 'contact', { items: ids.map((id) => ({ id, kind: 'photo' as const })) })

    const topic = await scene.reply(alice, () => api.sendCommand(alice, 'support'))
    // The pressed message is a text; the answer is an album, so it is a new message, not an edit.
    const album = await next(api, alice, ['sendMediaGroup', 'editMessageText'], () => api.clickButton(alice, topic, 'b:sup_billing'))
    expect(album.method).toBe('sendMediaGroup')
    expect(album.status).toBe(200)
    const media = album.params['media'] as { type: string; media: string; caption?: string; caption_entities?: unknown }[]
    expect(media.map((m) => m.type)).toEqual(['photo', 'photo'])
    expect(media.every((m) => /^attach:\/\/\w+$/.test(m.media))).toBe(true)
    expect(media[0]).toMatchObject({ caption: message, caption_entities: entities })
    expect(media[1]).not.toHaveProperty('caption')
    expect(album.files!.map((f) => [f.source, f.bytes])).toEqual([
      ['upload', one],
      ['upload', two],
    ])
    expect(album.messages!.map((m) => m.media_group_id)).toEqual([album.messages![0]!.media_group_id, album.messages![0]!.media_group_id])
    expect(album.messages![0]!.caption_entities).toEqual(entities)

    // Next time both go by file_id.
    const topicAgain = await scene.reply(bob, () => api.sendCommand(bob, 'support'))
    const again = await next(api, bob, 'sendMediaGroup', () => api.clickButton(bob, topicAgain, 'b:sup_billing'))
    expect(again.files!.map((f) => f.source)).toEqual(['file_id', 'file_id'])
  })

  it('a caption with an emoji and a variable gets UTF-16 caption_entities; a button under the photo answers with a new message', async () => {
    scene = await Scene.start()
    const { api } = scene
    const id = await upload(freshPng(100, 100), 'finish.png')
    const onboarding = await scene.admin('scenario/onboarding')
    const template = '🎉 Nice to meet you, {name}! Docs'
    const before = (s: string) => template.slice(0, template.indexOf(s))
    setStepMessage(onboarding.doc, 'finish', template, [
      { type: 'bold', offset: u16(before('{name}')), length: u16('{name}') },
      { type: 'text_link', offset: u16(before('Docs')), length: u16('Docs'), url: 'https://example.com/docs' },
    ])
    await setMedia('onboarding', 'finish', { items: [{ id, kind: 'photo' }] })

    const intro = await scene.reply(alice, () => api.sendCommand(alice, 'start', 'onboarding'))
    await scene.reply(alice, () => api.clickButton(alice, intro, 'b:ob_continue'))
    const name = 'Zoë 👩🏽‍💻'
    const photo = await next(api, alice, 'sendPhoto', () => api.sendText(alice, name))
    const caption = `🎉 Nice to meet you, ${name}! Docs`
    expect(photo.status).toBe(200)
    expect(photo.params['caption']).toBe(caption)
    const expected = [
      { type: 'bold', offset: u16('🎉 Nice to meet you, '), length: u16(name) },
      { type: 'text_link', offset: u16(`🎉 Nice to meet you, ${name}! `), length: 4, url: 'https://example.com/docs' },
    ]
    expect(photo.params['caption_entities']).toEqual(expected)
    expect(photo.message!.caption_entities).toEqual(expected)
    expect(photo.message!.reply_markup!.inline_keyboard.flat().map((b) => b.callback_data ?? b.url)).toEqual(['b:support', 'https://example.com'])

    // Pressing Support under the photo: editMessageText cannot change a photo, so the topic comes as a new message.
    const since = api.mark()
    const topic = await scene.reply(alice, () => api.clickButton(alice, photo, 'b:support'))
    expect(topic.method).toBe('sendMessage')
    expect(topic.message!.text).toBe('What do you need help with?')
    expect(api.calls.slice(since).filter((c) => c.method === 'editMessageText')).toEqual([])
  })

  it('a step whose media is not in the library cannot be reached, like any invalid step: the fallback, one log line', async () => {
    scene = await Scene.start()
    const { api } = scene
    const missing = sha256(new TextEncoder().encode('never uploaded'))
    await setMedia('onboarding', 'finish', { items: [{ id: missing, kind: 'photo' }] }, false)

    const fallback = "Sorry, I didn't get that. Send /start to see the menu."
    for (const user of [alice, bob]) {
      const intro = await scene.reply(user, () => api.sendCommand(user, 'start', 'onboarding'))
      await scene.reply(user, () => api.clickButton(user, intro, 'b:ob_continue'))
      const answer = await scene.reply(user, () => api.sendText(user, 'Al'))
      expect(answer.method).toBe('sendMessage')
      expect(answer.message!.text).toBe(fallback)
    }
    expect(api.callsOf('sendPhoto')).toEqual([])
    expect(scene.logged('content-skipped').filter((line) => line.code === 'media-missing')).toEqual([
      expect.objectContaining({ document: 'scenario/onboarding', path: 'scenario/steps/finish/media/items/0/id' }),
    ])
    // Skipped by validation: the bot never even asked the server for the file.
    expect(scene.logged('step-media-unusable')).toEqual([])
  })

  it('a file the server lost (the library lists it, GET answers 404) skips the step with the fallback, logged once — not once per user', async () => {
    scene = await Scene.start()
    const { api } = scene
    const id = await upload(freshPng(20, 20), 'lost.png')
    await setMedia('onboarding', 'welcome', { items: [{ id, kind: 'photo' }] })
    await scene.sessions.query("DELETE FROM media_files WHERE space = $1 AND sha256 = decode($2, 'hex')", [scene.space, id])

    const fallback = "Sorry, I didn't get that. Send /start to see the menu."
    for (const user of [alice, bob, alice]) {
      const answer = await scene.reply(user, () => api.sendCommand(user, 'start', 'onboarding'))
      expect(answer.method).toBe('sendMessage')
      expect(answer.message!.text).toBe(fallback)
    }
    expect(api.callsOf('sendPhoto')).toEqual([])
    expect(scene.logged('step-media-unusable')).toEqual([
      expect.objectContaining({ scenarioId: 'onboarding', stepId: 'welcome', mediaId: id, reason: 'the server has no such file' }),
    ])

    // Other media on the step is reported again, once.
    const other = await upload(freshPng(21, 21), 'lost-too.png')
    await setMedia('onboarding', 'welcome', { items: [{ id: other, kind: 'photo' }] })
    await scene.sessions.query("DELETE FROM media_files WHERE space = $1 AND sha256 = decode($2, 'hex')", [scene.space, other])
    for (const user of [alice, bob]) await scene.reply(user, () => api.sendCommand(user, 'start', 'onboarding'))
    expect(scene.logged('step-media-unusable').map((line) => line.mediaId)).toEqual([id, other])
  })

  it("a document goes with the name the media library gives it, and Telegram's file_id afterwards", async () => {
    scene = await Scene.start()
    const { api } = scene
    // Unique bytes per run (a comment after %%EOF), for the same reason as freshPng.
    const bytes = new Uint8Array(Buffer.concat([Buffer.from(pdfBytes()), Buffer.from(`% ${randomInt(1 << 30)}\n`)]))
    const id = await upload(bytes, 'Menu-winter.pdf', 'application/pdf')
    await waitFor(() => projectSpace(scene.bot!.replica.docs()).media?.[id] !== undefined, 'the library entry to reach the bot')
    await setMedia('onboarding', 'welcome', { items: [{ id, kind: 'document' }] })
    const sent = await next(api, alice, 'sendDocument', () => api.sendCommand(alice, 'start', 'onboarding'))
    expect(sent.files).toEqual([expect.objectContaining({ source: 'upload', filename: 'Menu-winter.pdf', bytes })])
    expect(sent.message!.document).toMatchObject({ file_name: 'Menu-winter.pdf', file_size: bytes.length })
    const again = await next(api, bob, 'sendDocument', () => api.sendCommand(bob, 'start', 'onboarding'))
    expect(again.params['document']).toBe(sent.message!.document!.file_id)
  })

  it('an album step with a keyboard: the album without caption, then the message with the keyboard (sendMediaGroup takes none)', async () => {
    scene = await Scene.start()
    const { api } = scene
    const ids = [await upload(freshPng(50, 40), 'a.png'), await upload(freshPng(40, 50), 'b.png')]
    await setMedia('onboarding', 'welcome', { items: ids.map((id) => ({ id, kind: 'photo' as const })) })
    const since = api.mark()
    const text = await scene.reply(
      alice,
      () => api.sendCommand(alice, 'start', 'onboarding'),
      (c) => c.method === 'sendMessage',
    )
    const [album] = api.calls.slice(since).filter((c) => c.method === 'sendMediaGroup')
    expect(album!.status).toBe(200)
    expect(api.calls.indexOf(album!)).toBeLessThan(api.calls.indexOf(text))
    expect((album!.params['media'] as object[]).every((m) => !('caption' in m))).toBe(true)
    expect(text.message!.text).toBe("Hi! Let's get you set up. It takes less than a minute.")
    // Its buttons work: Let's go asks for the name, editing that text message.
    const asked = await scene.reply(alice, () => api.clickButton(alice, text, 'b:ob_continue'))
    expect(asked.method).toBe('editMessageText')
    expect(asked.message!.text).toBe('What should I call you?')
  })

  it('media Telegram refuses is skipped with the fallback and logged once; the user can go on', async () => {
    scene = await Scene.start()
    const { api } = scene
    const id = await upload(freshPng(60, 60), 'refused.png')
    await setMedia('onboarding', 'welcome', { items: [{ id, kind: 'photo' }] })
    api.failNext('sendPhoto', { error_code: 400, description: 'Bad Request: IMAGE_PROCESS_FAILED' }, 2)
    const fallback = "Sorry, I didn't get that. Send /start to see the menu."
    for (const user of [alice, bob]) {
      const answer = await scene.reply(
        user,
        () => api.sendCommand(user, 'start', 'onboarding'),
        (c) => c.method === 'sendMessage',
      )
      expect(answer.message!.text).toBe(fallback)
    }
    expect(scene.logged('step-media-unusable')).toEqual([expect.objectContaining({ stepId: 'welcome', reason: 'Telegram refused it: Bad Request: IMAGE_PROCESS_FAILED' })])
    // Once Telegram takes it, the photo goes.
    const photo = await next(api, alice, 'sendPhoto', () => api.sendCommand(alice, 'start', 'onboarding'))
    expect(photo.files![0]!.source).toBe('upload')
  })

  it("in review mode the release's media is what goes out, not the draft's", async () => {
    scene = await Scene.start()
    const { api, server, space } = scene
    const releasedBytes = freshPng(30, 30)
    const released = await upload(releasedBytes, 'released.png')
    const draft = await upload(freshPng(31, 31), 'draft.png')
    const release = await draftsOf(server, space)
    expect(release.media?.[released]).toMatchObject({ kind: 'photo', name: 'released.png' })
    release.scenarioDocs.onboarding!.steps.welcome!.media = { items: [{ id: released, kind: 'photo' }] }
    await publishReleaseForTest(server, space, release)
    await setPublishModeForTest(server, space, 'review')
    await setMedia('onboarding', 'welcome', { items: [{ id: draft, kind: 'photo' }] })
    const photo = await next(api, alice, 'sendPhoto', () => api.sendCommand(alice, 'start', 'onboarding'))
    expect(photo.files).toEqual([expect.objectContaining({ source: 'upload', bytes: releasedBytes, filename: 'released.png' })])
  })
})

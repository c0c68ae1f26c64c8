// A space's bot, run by the server's supervisor with the token derived for
// its space, sends a step's media: the bytes it reads from this server's
// media endpoint, uploaded to Telegram once, Telegram's file_id after that.
import { createHash } from 'node:crypto'
import { docName, setStepMedia } from '@botsync/shared-docs'
import { FakeTelegram } from '@botsync/testkit/fake-bot-api'
import { pngBytes, uploadMedia } from '@botsync/testkit/media'
import { connect, memberOf, startServer, storeDemoSpace, synced, uniqueSpace, wsUrlOf, type TestClient } from '@botsync/testkit/server'
import { afterEach, expect, it } from 'vitest'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { startEmbeddedBot } from '../src/embedded-bot.ts'

/** Bot ids differ per run: space_bots and bot_media_files keep rows per bot id, and earlier runs' rows stay in the shared database. */
const RUN = 1_000_000 + Math.floor(Math.random() * 8_000_000_000)

const telegram = new FakeTelegram()
let server: BotsyncServer | undefined
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy()
  await server?.stop()
  await telegram.stop()
})

it("a space bot reads a step's photo from the server with its own token, uploads it once and sends the file_id after that", async () => {
  await telegram.start()
  const token = `${RUN * 10_000 + 7301}:AAsecret-media-padding-padding-padding`
  const fake = telegram.bot({ token, botUsername: 'media_space_bot' })
  const space = uniqueSpace()
  await storeDemoSpace(space)
  server = await startServer({ TELEGRAM_API_ROOT: telegram.apiRoot, BOT_SPACE: uniqueSpace() })
  await startEmbeddedBot(server)
  const base = `http://127.0.0.1:${server.port}`
  const owner = await memberOf(server, space, 'owner')
  const put = await fetch(`${base}/api/spaces/${space}/bot`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  })
  expect(put.status).toBe(200)

  const bytes = pngBytes(120, 80, RUN % 65_536)
  const stored = await uploadMedia(base, space, owner.token, { bytes, name: 'hello.png', type: 'image/png' })
  expect(stored.body.id).toBe(createHash('sha256').update(bytes).digest('hex'))
  const onboarding = connect(wsUrlOf(server), docName.scenario(space, 'onboarding'), owner.token)
  clients.push(onboarding)
  await synced(onboarding)
  setStepMedia(onboarding.doc, 'welcome', { items: [{ id: stored.body.id as string, kind: 'photo' }] })
  // Saved: the bot's read-your-writes catch-up makes its next answer include it (and the library entry the upload wrote).
  await synced(onboarding)

  const photoTo = async (user: { id: number; first_name: string }) => {
    const since = fake.mark()
    fake.sendCommand(user, 'start', 'onboarding')
    return fake.waitForCall((c) => c.status === 200 && String(c.params['chat_id']) === String(user.id), { since, method: 'sendPhoto', timeoutMs: 15_000 })
  }
  const first = await photoTo({ id: 9301, first_name: 'Ida' })
  expect(first.files).toEqual([expect.objectContaining({ source: 'upload', bytes, filename: 'hello.png' })])
  expect(first.message!.caption).toBe("Hi! Let's get you set up. It takes less than a minute.")
  const second = await photoTo({ id: 9302, first_name: 'Jon' })
  expect(second.files).toEqual([expect.objectContaining({ source: 'file_id', fileId: first.message!.photo!.at(-1)!.file_id })])
})

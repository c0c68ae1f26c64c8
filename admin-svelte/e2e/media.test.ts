// A step's media in Chromium: Ana picks a photo for the welcome step; the
// upload's tile appears for her and for Ben, the stored step refers to the
// file by its SHA-256 and the library names it, the preview draws the
// picture, and the space's real telegraf bot uploads exactly those bytes to
// the fake Bot API once, then sends Telegram's file_id. A caption over 1024
// characters is a problem on the preview. A ".jpg" that is really an
// executable is refused with the server's reason, and nothing is stored.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { projectMediaLibrary } from '@botsync/shared-docs'
import { elfBytes, pngBytes } from '@botsync/testkit/media'
import { uniqueSpace } from '@botsync/testkit/server'
import * as Y from 'yjs'
import { E2eApp, screenshotPath, SpaceBot, useE2eAppWithBot, stepMessage } from './harness.ts'

const tom = { id: 9801, first_name: 'Tom' }
const uma = { id: 9802, first_name: 'Uma' }

describe('media in the step editor', () => {
  let app: E2eApp
  let bot: SpaceBot
  const space = uniqueSpace()

  useE2eAppWithBot(space, 'media_e2e_bot', (started) => ({ app, bot } = started))

  async function storedLibrary() {
    const { state } = await app.server.store.load(`${space}/settings`)
    const doc = new Y.Doc()
    if (state) Y.applyUpdate(doc, state)
    return projectMediaLibrary(doc)
  }

  it('uploads a photo into a step for everyone, previews it, the bot sends it once by upload then by file_id, and an executable named .jpg is refused with its reason', async () => {
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    for (const admin of [ana, ben]) await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    const anaStep = ana.page.locator('[data-step-id="welcome"]')
    const benStep = ben.page.locator('[data-step-id="welcome"]')
    await anaStep.getByTestId('step-media').waitFor()

    const photo = pngBytes(640, 480, 7)
    const id = createHash('sha256').update(photo).digest('hex')
    await anaStep.getByTestId('media-file-input').setInputFiles({ name: 'beans.png', mimeType: 'image/png', buffer: Buffer.from(photo) })
    for (const step of [anaStep, benStep]) {
      await step.locator(`[data-testid="media-tile"][data-media-id="${id}"]`).getByText('beans.png').waitFor()
      // The photo itself is drawn (fetched with the admin's token as a blob URL).
      await expect.poll(() => step.locator(`[data-media-id="${id}"] img`).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(640)
      await step.getByText('Caption', { exact: true }).waitFor()
    }
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.welcome.media).toEqual({ items: [{ id, kind: 'photo' }] })
    expect(await storedLibrary()).toEqual({ [id]: expect.objectContaining({ kind: 'photo', mime: 'image/png', name: 'beans.png', width: 640, height: 480, bytes: photo.length }) })
    // The preview draws the picture too, from the same bytes.
    const preview = anaStep.getByTestId('step-preview')
    await expect
      .poll(() =>
        preview
          .getByTestId('preview-media')
          .locator('img')
          .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
      )
      .toBe(640)
    await anaStep.scrollIntoViewIfNeeded()
    await ana.page.screenshot({ path: screenshotPath('step-media') })

    // The bot: the first user gets the photo uploaded (multipart, exactly these bytes) with the message as caption;
    // the next one gets Telegram's file_id for it.
    const first = await bot.start(tom, 'onboarding')
    expect(first.method).toBe('sendPhoto')
    expect(first.files).toEqual([expect.objectContaining({ field: 'photo', source: 'upload', size: photo.length })])
    expect(Buffer.from(first.files![0]!.bytes!).equals(Buffer.from(photo))).toBe(true)
    expect(first.message?.caption).toBe("Hi! Let's get you set up. It takes less than a minute.")
    const fileId = first.message!.photo!.at(-1)!.file_id
    // The bot remembers the file_id once Telegram's answer is back, after the message went out: the
    // fake has the message before that. A /start answered meanwhile uploads again (nothing known yet).
    await expect.poll(async () => (await app.server.db.query('SELECT 1 FROM bot_media_files WHERE media_id = $1 AND file_id = $2', [id, fileId])).length).toBe(1)
    const second = await bot.start(uma, 'onboarding')
    expect(second.method).toBe('sendPhoto')
    expect(second.files).toEqual([expect.objectContaining({ source: 'file_id', fileId })])

    // A caption over Telegram's 1024 characters: the problem shows under the field and on the preview.
    await stepMessage(ana.page, 'welcome').fill('x'.repeat(1030))
    await expect.poll(() => preview.getByTestId('preview-problems').locator('li').first().getAttribute('data-code')).toBe('caption-too-long')
    await expect.poll(() => anaStep.locator('.char-count').textContent()).toBe('1030 / 1024')
    await stepMessage(ana.page, 'welcome').fill('Fresh beans every morning.')
    await expect.poll(() => preview.getByTestId('preview-problems').count()).toBe(0)

    // Bytes that are an ELF executable, named and typed as a JPEG: refused for what they are.
    await anaStep.getByTestId('media-file-input').setInputFiles({ name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(elfBytes()) })
    await anaStep
      .getByRole('alert')
      .filter({ hasText: 'holiday.jpg' })
      .filter({ hasText: /executable/i })
      .waitFor()
    expect(await app.server.media.count(space)).toBe(1)
    expect(Object.keys(await storedLibrary())).toEqual([id])
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.media).toEqual({ items: [{ id, kind: 'photo' }] })

    // Removing the photo makes the step a text message again, for both.
    await anaStep.getByRole('button', { name: 'Remove beans.png' }).click()
    for (const step of [anaStep, benStep]) await expect.poll(() => step.getByTestId('media-tile').count()).toBe(0)
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.welcome.media).toBeUndefined()
  })
})

// The step preview and the Try it chat in Chromium: the preview follows a
// co-editor's typing and shows a step's problems and media; Try it walks
// the demo onboarding with the bot's own runner on the server, and no real
// session or activity counter moves.
import { mkdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docName, projectActivity, setStepMedia, setStepMessage } from '@botsync/shared-docs'
import type { Page } from 'playwright-core'
import { E2eApp, messageText, stepMessage, useE2eApp } from './harness.ts'

// Every run writes test-results/; UPDATE_SCREENSHOTS=1 refreshes the copies in docs/screenshots.
const screenshot = (name: string) => {
  const path = new URL(process.env.UPDATE_SCREENSHOTS ? `../../docs/screenshots/${name}` : `../../test-results/${name}`, import.meta.url).pathname
  mkdirSync(new URL('.', `file://${path}`).pathname, { recursive: true })
  return path
}

const preview = (page: Page, stepId: string) => page.locator(`[data-step-id="${stepId}"]`).getByTestId('step-preview')
/** A photo's id in the media store (SHA-256 hex); the store does not have its bytes, so the preview draws the placeholder tile. */
const PHOTO_ID = 'a'.repeat(64)

describe('the step preview and Try it', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  async function counters(space: string): Promise<Record<string, number>> {
    const state = await app.server.writer.read(docName.activity(space))
    const doc = new Y.Doc()
    if (state) Y.applyUpdate(doc, state)
    return projectActivity(doc).counters
  }

  async function sessionRows(space: string): Promise<number> {
    const rows = await app.server.db.query<{ n: string }>('SELECT count(*) AS n FROM bot_sessions WHERE space = $1', [space]).catch(() => [{ n: '0' }])
    return Number(rows[0].n)
  }

  it("repaints when another admin types, shows a step's problem and media, in Telegram's light and dark themes", async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    for (const admin of [ana, ben]) await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    const anaWelcome = preview(ana.page, 'welcome')
    await expect.poll(() => anaWelcome.getByTestId('preview-text').textContent()).toBe("Hi! Let's get you set up. It takes less than a minute.")
    // The inline keyboard with the buttons' real labels.
    await expect.poll(() => anaWelcome.getByTestId('preview-inline-keyboard').getByRole('button').allTextContents()).toEqual(["Let's go", 'Maybe later'])
    // A {name} placeholder is a chip.
    await expect.poll(() => preview(ana.page, 'finish').locator('[data-variable="name"]').count()).toBe(1)

    // Ben types; Ana's preview follows.
    const benField = stepMessage(ben.page, 'welcome')
    await benField.click()
    await benField.press('End')
    await benField.pressSequentially(' Welcome aboard!')
    await expect.poll(() => anaWelcome.getByTestId('preview-text').textContent()).toBe("Hi! Let's get you set up. It takes less than a minute. Welcome aboard!")

    // A message over Telegram's 4096 characters: the problem is on the bubble.
    await stepMessage(ben.page, 'ask_name').fill('x'.repeat(4100))
    const askName = preview(ana.page, 'ask_name')
    await expect.poll(() => askName.getByTestId('preview-problems').locator('li').first().getAttribute('data-code')).toBe('message-too-long')
    expect(await askName.locator('.tg-bubble').getAttribute('aria-invalid')).toBe('true')
    // (A caption over 1024 on a media step, and real uploaded bytes drawn as the picture: media.test.ts.)

    // Media set on the server (as the media store's upload would): a photo tile, the placeholder while its bytes are unavailable.
    await app.server.writer.change(docName.scenario(space, 'onboarding'), (doc) => setStepMedia(doc, 'finish', { items: [{ id: PHOTO_ID, kind: 'photo' }] }))
    const finish = preview(ana.page, 'finish')
    await expect.poll(() => finish.getByTestId('preview-media').locator('[data-kind="photo"]').count()).toBe(1)
    await expect.poll(() => finish.locator('.tg-media-placeholder').count()).toBe(1)

    // A file the library does not list is a problem on the bubble too.
    await expect.poll(() => finish.getByTestId('preview-problems').locator('li').first().getAttribute('data-code')).toBe('media-missing')

    // Formatting as the documents hold it (Telegram's entities, UTF-16 offsets): drawn as elements, the spoiler hidden until clicked.
    const formatted = 'Welcome, {name}! Read the guide first. Secret: 42. Use /help or `code`.'
    const at = (part: string) => formatted.indexOf(part)
    await app.server.writer.change(docName.scenario(space, 'onboarding'), (doc) =>
      setStepMessage(doc, 'finish', formatted, [
        { type: 'bold', offset: at('Welcome'), length: 'Welcome'.length },
        { type: 'text_link', offset: at('the guide'), length: 'the guide'.length, url: 'https://example.com/guide' },
        { type: 'italic', offset: at('Secret'), length: 'Secret: 42'.length },
        { type: 'spoiler', offset: at('42'), length: 2 },
        { type: 'code', offset: at('`code`') + 1, length: 4 },
      ]),
    )
    await expect.poll(() => finish.locator('strong').textContent()).toBe('Welcome')
    const spoiler = finish.locator('.tg-spoiler')
    expect(await spoiler.getAttribute('class')).not.toContain('revealed')
    await expect.poll(() => finish.getByTestId('preview-link-card').locator('.tg-link-site').textContent()).toBe('example.com')
    await finish.scrollIntoViewIfNeeded()
    await finish.screenshot({ path: screenshot('preview-light.png') })
    await spoiler.click()
    expect(await spoiler.getAttribute('class')).toContain('revealed')
    // Dark theme, remembered for this admin across a reload.
    await anaWelcome.getByRole('button', { name: 'Dark theme' }).click()
    await expect.poll(() => anaWelcome.getByTestId('message-preview').getAttribute('data-theme')).toBe('dark')
    await ana.page.reload()
    await expect.poll(() => preview(ana.page, 'welcome').getByTestId('message-preview').getAttribute('data-theme')).toBe('dark')
    await preview(ana.page, 'finish').scrollIntoViewIfNeeded()
    await preview(ana.page, 'finish').screenshot({ path: screenshot('preview-dark.png') })
    // Ben's choice is his own.
    expect(await preview(ben.page, 'welcome').getByTestId('message-preview').getAttribute('data-theme')).toBe('light')
  })

  it('Try it walks the onboarding: buttons, an invalid then a valid answer; no real session or counter changes', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const page = ana.page
    await page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => messageText(stepMessage(page, 'ask_name'))).toBe('What should I call you?')
    // The name step expects an email here, so an answer can be wrong.
    await page.locator('[data-step-id="ask_name"]').getByLabel('Expect').selectOption('email')
    await expect.poll(() => page.getByTestId('save-status').textContent()).toBe('All changes saved')
    const sessionsBefore = await sessionRows(space)
    const countersBefore = await counters(space)

    await page.getByRole('button', { name: 'Try it' }).click()
    const panel = page.getByTestId('try-it')
    const bot = panel.getByTestId('try-it-bot-message')
    const composer = panel.getByLabel('Message to the bot')
    await composer.fill('/start')
    await panel.getByRole('button', { name: 'Send' }).click()
    await expect.poll(() => bot.last().getByTestId('preview-text').textContent()).toBe('Welcome to the botsync demo bot! Pick an option below.')

    // Inline buttons edit the message in place, as Telegram shows it.
    await bot.last().getByRole('button', { name: 'Get started' }).click()
    await expect.poll(() => bot.last().getByTestId('preview-text').textContent()).toBe("Hi! Let's get you set up. It takes less than a minute.")
    expect(await bot.count()).toBe(1)
    await bot.last().getByRole('button', { name: "Let's go" }).click()
    await expect.poll(() => bot.last().getByTestId('preview-text').textContent()).toBe('What should I call you?')

    await composer.fill('not an address')
    await composer.press('Enter')
    await expect.poll(() => bot.last().getByTestId('preview-text').textContent()).toBe("That doesn't look right. Please try again.")
    await composer.fill('ana@example.com')
    await composer.press('Enter')
    await expect.poll(() => bot.last().getByTestId('preview-text').textContent()).toBe('Nice to meet you, ana@example.com! You are all set.')
    expect(await panel.getByTestId('try-it-user-message').allTextContents()).toEqual([
      expect.stringContaining('/start'),
      expect.stringContaining('not an address'),
      expect.stringContaining('ana@example.com'),
    ])
    await page.screenshot({ path: screenshot('simulator.png') })

    // Nothing real moved.
    expect(await sessionRows(space)).toBe(sessionsBefore)
    expect(await counters(space)).toEqual(countersBefore)

    // "Start from this step": a new conversation, at that step.
    await page.locator('[data-step-id="ask_name"]').getByRole('button', { name: 'Start from this step' }).click()
    await expect.poll(() => bot.allTextContents()).toEqual([expect.stringContaining('What should I call you?')])
    // Reset: an empty chat.
    await panel.getByRole('button', { name: 'Reset' }).click()
    await expect.poll(() => bot.count()).toBe(0)
  })
})

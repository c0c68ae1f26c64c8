// The rich-text message editor, three admins in Chromium on one step's
// message: two bold different words while the third types between them;
// every editor converges on the same text and formatting, PostgreSQL holds
// it as entities, and the space's real telegraf bot sends them to the fake
// Bot API with Telegram's UTF-16 offsets. Then per-user undo of a bold, and
// a link from Ctrl+K (a URL Telegram refuses is refused in place first).
import { describe, expect, it } from 'vitest'
import type { MessageEntity } from '@botsync/shared-docs'
import { uniqueSpace } from '@botsync/testkit/server'
import { E2eApp, formattedTexts, messageText, screenshotPath, selectText, SpaceBot, useE2eAppWithBot, stepMessage, type Admin } from './harness.ts'

const tom = { id: 9701, first_name: 'Tom' }

/** UTF-16 code units, counted without String#length (what Telegram's offsets count). */
const u16 = (s: string): number => Buffer.from(s, 'utf16le').length / 2

describe('the rich-text message editor', () => {
  let app: E2eApp
  let bot: SpaceBot
  const space = uniqueSpace()

  useE2eAppWithBot(space, 'rich_text_bot', (started) => ({ app, bot } = started))

  /** The welcome step's message as the bot sends it to Tom for /start onboarding. */
  async function sentWelcome(): Promise<{ text: string; entities: MessageEntity[] }> {
    const call = await bot.start(tom, 'onboarding')
    expect(call.params).not.toHaveProperty('parse_mode')
    return { text: call.message?.text ?? '', entities: (call.params.entities ?? []) as MessageEntity[] }
  }

  async function allSaved(admins: Admin[]): Promise<void> {
    for (const admin of admins) await expect.poll(() => admin.page.getByTestId('save-status').textContent()).toBe('All changes saved')
  }

  it('three admins format and type in one message at once and converge; the bot sends the entities', async () => {
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    const cleo = await app.admin('Cleo', { space })
    const admins = [ana, ben, cleo]
    const original = "Hi! Let's get you set up. It takes less than a minute."
    for (const admin of admins) {
      await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
      await expect.poll(() => messageText(stepMessage(admin.page, 'welcome'))).toBe(original)
    }
    const [anaField, benField, cleoField] = admins.map((admin) => stepMessage(admin.page, 'welcome'))

    // At once: Ana bolds word 1, Ben word 3, Cleo types between words 2 and 3 (an emoji: two UTF-16 units).
    await selectText(anaField, 'Hi!')
    await selectText(benField, 'get')
    await selectText(cleoField, "Let's", { collapseToEnd: true })
    await Promise.all([anaField.press('Control+b'), benField.press('Control+b'), cleoField.pressSequentially(' 🎉 now', { delay: 20 })])

    const expected = "Hi! Let's 🎉 now get you set up. It takes less than a minute."
    for (const field of [anaField, benField, cleoField]) {
      await expect.poll(() => messageText(field)).toBe(expected)
      await expect.poll(() => formattedTexts(field, 'strong')).toEqual(['Hi!', 'get'])
    }
    const bold = [
      { type: 'bold', offset: 0, length: 3 },
      { type: 'bold', offset: u16("Hi! Let's 🎉 now "), length: 3 },
    ]
    await allSaved(admins)
    const stored = (await app.storedScenario(space, 'onboarding')).steps.welcome
    expect(stored.message).toBe(expected)
    expect(stored.entities).toEqual(bold)
    expect(await sentWelcome()).toEqual({ text: expected, entities: bold })

    // The screenshot for the README: Ana's editor with the formatting, and Ben's caret in it (his name on it).
    await selectText(benField, 'set up', { collapseToEnd: true })
    await ana.page.locator('[data-step-id="welcome"] .ql-cursor').getByText('Ben').waitFor()
    await ana.page.locator('[data-step-id="welcome"]').scrollIntoViewIfNeeded()
    await ana.page.screenshot({ path: screenshotPath('rich-text-editor') })

    // Ctrl+Z in Ana's editor undoes her bold only: Ben's stays, on every screen and in the bot's message.
    await anaField.press('Control+z')
    for (const field of [anaField, benField, cleoField]) await expect.poll(() => formattedTexts(field, 'strong')).toEqual(['get'])
    expect(await messageText(anaField)).toBe(expected)
    await allSaved(admins)
    expect(await sentWelcome()).toEqual({ text: expected, entities: [bold[1]] })

    // Ctrl+K links a selection; a URL Telegram would not open is refused in place, with validation's words.
    await selectText(anaField, 'minute')
    await anaField.press('Control+k')
    const url = ana.page.getByLabel('Link URL')
    await url.fill('ftp://example.com/help')
    await url.press('Enter')
    await ana.page.getByTestId('link-popover').getByText('URL must start with http://, https://, tg://.').waitFor()
    expect(await formattedTexts(benField, 'a')).toEqual([])
    await url.fill('https://example.com/help')
    await url.press('Enter')
    await expect.poll(() => ana.page.getByTestId('link-popover').count()).toBe(0)
    for (const field of [anaField, benField, cleoField]) await expect.poll(() => formattedTexts(field, 'a[href="https://example.com/help"]')).toEqual(['minute'])
    await allSaved(admins)
    const linked = await sentWelcome()
    const at = expected.indexOf('minute')
    expect(linked.entities).toEqual([bold[1], { type: 'text_link', offset: u16(expected.slice(0, at)), length: 6, url: 'https://example.com/help' }])
  })
})

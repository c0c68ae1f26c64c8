// Review before it goes live, driven in Chromium with the real telegraf bot
// on the fake Bot API: an owner turns review on in Settings, edits the
// welcome text, the bot keeps answering the released one until the header's
// Publish; History then shows the release with its author and the word
// diff. And a restore from History while another admin types in the same
// message: both converge, his later words are kept, and Ctrl+Z undoes it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FakeTelegram, type FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { uniqueSpace } from '@botsync/testkit/server'
import { E2eApp, messageText, screenshotPath, stepMessage } from './harness.ts'

const telegram = new FakeTelegram()
// A bot id no other test's bot has (space_bots.bot_id is unique).
const botId = 810_000_000 + Math.floor(Math.random() * 90_000_000)
const token = `${botId}:AA-e2e-releases-${uniqueSpace()}`
let fake: FakeBotApi

const DEMO_WELCOME = 'Welcome to the botsync demo bot! Pick an option below.'
const DEMO_STEP = "Hi! Let's get you set up. It takes less than a minute."

describe('releases in the admin', () => {
  let app: E2eApp
  beforeAll(async () => {
    await telegram.start()
    fake = telegram.bot({ token, botUsername: 'review_e2e_bot' })
    app = await E2eApp.start({ TELEGRAM_API_ROOT: telegram.apiRoot })
    await app.server.bots.run()
  })
  afterEach(() => app.assertNoPageErrors())
  afterAll(async () => {
    await app?.close()
    await telegram.stop()
  })

  async function startText(userId: number): Promise<string | undefined> {
    const since = fake.mark()
    fake.sendCommand({ id: userId, first_name: 'Tom' }, 'start')
    return (await fake.nextMessageTo(userId, { since, timeoutMs: 15_000 })).message?.text
  }

  it('review mode: the bot answers the release until Ana publishes; History shows release 2 by Ana with the word diff', async () => {
    const space = await app.seedSpace()
    await app.server.spaceBots.set(space, token)
    const ana = await app.admin('Ana', { role: 'owner', space })
    const page = ana.page
    expect(await startText(9601)).toBe(DEMO_WELCOME)

    // Settings → Publishing: review on. Release 1 is the drafts as they are.
    await page.goto(`${app.baseUrl}/#/${space}/settings`)
    await expect.poll(() => page.getByTestId('publish-control').textContent()).toContain('Live')
    await page.getByRole('radio', { name: /Review/ }).check()
    await expect.poll(() => page.getByTestId('unpublished-count').textContent()).toBe('Everything is published')

    // Ana edits the welcome text: a draft, counted in the header, not what the bot says.
    const welcome = page.locator('#text-welcome')
    await welcome.click()
    await welcome.press('End')
    await welcome.pressSequentially(' Fresh coffee every morning.')
    await expect.poll(() => page.getByTestId('save-status').textContent()).toBe('All changes saved')
    await expect.poll(() => page.getByTestId('unpublished-count').textContent(), { timeout: 15_000 }).toBe('1 unpublished change')
    expect(await startText(9601)).toBe(DEMO_WELCOME)

    // Publish, with a note.
    await page.getByRole('button', { name: 'Publish', exact: true }).click()
    await page.getByLabel('Note (optional)').fill('Morning coffee')
    await page.screenshot({ path: screenshotPath('publish-dialog') })
    await page.getByRole('button', { name: 'Publish release 2' }).click()
    await expect.poll(() => page.getByTestId('unpublished-count').textContent()).toBe('Everything is published')
    expect(await startText(9601)).toBe(`${DEMO_WELCOME} Fresh coffee every morning.`)

    // History: release 2, by Ana, the welcome text's word diff.
    await page.getByRole('link', { name: 'History' }).click()
    const newest = page.getByTestId('version').first()
    await expect.poll(() => newest.getAttribute('data-number')).toBe('2')
    expect(await newest.getAttribute('data-kind')).toBe('release')
    expect(await newest.textContent()).toContain('Ana')
    expect(await newest.textContent()).toContain('Morning coffee')
    const changes = page.getByTestId('change-list').locator('li')
    await expect.poll(() => changes.count()).toBe(1)
    expect(await changes.first().getByTestId('change-author').getAttribute('title')).toBe('Ana')
    const diff = changes.first().getByTestId('word-diff')
    expect(await diff.locator('ins').allTextContents()).toEqual([' Fresh coffee every morning.'])
    expect(await diff.locator('del').count()).toBe(0)
    expect(await diff.textContent()).toBe(`${DEMO_WELCOME} Fresh coffee every morning.`)
    await page.screenshot({ path: screenshotPath('history') })
  })

  it('restoring release 1 while Ben types in the same message: both converge, his later words stay, Ana’s Ctrl+Z undoes the restore', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { role: 'owner', space })
    const ben = await app.admin('Ben', { role: 'editor', space })
    // Release 1 holds the demo content (live mode: a release is a named point in history).
    const release = await app.server.publisher.publish(space, ana.userId, 'Demo content')
    expect(release.number).toBe(1)

    // Ben rewrites the first step's message.
    await ben.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    const field = stepMessage(ben.page, 'welcome')
    await expect.poll(() => messageText(field)).toBe(DEMO_STEP)
    await field.click()
    await field.press('Control+a')
    await field.pressSequentially('BEN DRAFT')
    await expect.poll(() => ben.page.getByTestId('save-status').textContent()).toBe('All changes saved')

    // Ana restores release 1 while Ben keeps typing.
    await ana.page.goto(`${app.baseUrl}/#/${space}/history`)
    await expect.poll(() => ana.page.getByTestId('version').first().getAttribute('data-number')).toBe('1')
    await ana.page.getByRole('button', { name: 'Changed since (drafts)' }).click()
    await expect.poll(() => ana.page.getByTestId('change-list').textContent()).toContain('BEN DRAFT')
    await ana.page.getByRole('button', { name: 'Restore this version' }).click()
    await field.press('End')
    const typing = field.pressSequentially(' typing', { delay: 40 })
    await ana.page.getByRole('dialog').getByRole('button', { name: 'Restore', exact: true }).click()
    await typing
    await expect.poll(() => ana.page.getByTestId('restore-notice').textContent()).toContain('Restored Release 1')

    // Ben sees the restore arrive, then types more: those words are his and stay.
    await expect.poll(() => messageText(field)).toContain(DEMO_STEP)
    await field.press('End')
    await field.pressSequentially(' KEPT')
    await expect.poll(() => ben.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe(await messageText(field))
    const restored = await messageText(field)
    expect(restored).toContain(DEMO_STEP)
    expect(restored.endsWith(' KEPT')).toBe(true)
    expect(restored).not.toContain('BEN DRAFT')
    await ana.page.screenshot({ path: screenshotPath('history-restore') })

    // Ana's Ctrl+Z takes the restore back: Ben's draft returns, and his later words stay.
    await ana.page.keyboard.press('Control+z')
    await expect.poll(() => ana.page.getByTestId('restore-notice').textContent()).toContain('undone')
    await expect.poll(() => messageText(field)).toContain('BEN DRAFT')
    const undone = await messageText(field)
    expect(undone).toContain(' KEPT')
    expect(undone).not.toContain(DEMO_STEP)
    for (const admin of [ana, ben]) await expect.poll(() => admin.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe(undone)
  })
})

// Settings → Telegram bot, driven in Chromium: an owner pastes a token, the
// server checks it with the (fake) Bot API, the space's bot starts and
// answers in that space's content, the header shows @username and its state;
// a token Telegram refuses is shown with Telegram's words and stores nothing;
// an editor sees the @username and no token field.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FakeTelegram, type FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { uniqueSpace } from '@botsync/testkit/server'
import { E2eApp, screenshotPath } from './harness.ts'

const telegram = new FakeTelegram()
// Shaped like @BotFather's tokens; a bot id no other test's bot has (space_bots.bot_id is unique).
const botId = 800_000_000 + Math.floor(Math.random() * 100_000_000)
const token = `${botId}:AA-e2e-${uniqueSpace()}-padding`
const username = 'coffee_shop_bot'
let fake: FakeBotApi

describe('Settings: the space’s Telegram bot', () => {
  let app: E2eApp
  const space = uniqueSpace()
  // The fake Bot API first: the server is started with its address.
  beforeAll(async () => {
    await telegram.start()
    fake = telegram.bot({ token, botUsername: username })
    app = await E2eApp.start({ TELEGRAM_API_ROOT: telegram.apiRoot })
    await app.seedSpace(space)
    // What `npm start` does: run the supervised bots (none yet; they follow space_bots live).
    await app.server.bots.run()
  })
  afterEach(() => app.assertNoPageErrors())
  afterAll(async () => {
    await app?.close()
    await telegram.stop()
  })

  it('takes a token from an owner, runs the bot with the space’s content, and shows only @username', async () => {
    const owner = await app.admin('Olga', { role: 'owner', space })
    const page = owner.page
    await page.goto(`${app.baseUrl}/#/${space}/settings`)
    await page.getByRole('heading', { name: 'Telegram bot', level: 2 }).waitFor()
    await expect.poll(() => page.getByTestId('bot-status').getAttribute('data-status')).toBe('none')

    // Telegram refuses a token it does not know: its own words, nothing stored.
    await page.getByLabel('Bot token').fill(`${botId + 1}:AA-not-a-bot-telegram-knows`)
    await page.getByRole('button', { name: 'Save token' }).click()
    await expect.poll(() => page.getByText('Telegram refused the token: Unauthorized').count()).toBe(1)
    expect(await app.server.db.query('SELECT 1 FROM space_bots WHERE space = $1', [space])).toEqual([])

    await page.getByLabel('Bot token').fill(token)
    await page.getByRole('button', { name: 'Save token' }).click()
    await page.getByTestId('bot-current').getByText(`@${username}`).waitFor()
    // The field is cleared and the token is nowhere on the page.
    expect(await page.getByLabel('New bot token').inputValue()).toBe('')
    expect(await page.content()).not.toContain(token.split(':')[1])

    // The bot runs, in this space's content.
    const since = fake.mark()
    fake.sendCommand({ id: 9501, first_name: 'Tom' }, 'start')
    const answer = await fake.nextMessageTo(9501, { since, timeoutMs: 15_000 })
    expect(answer.message?.text).toMatch(/^Welcome to the botsync demo bot!/)
    // The header follows (it polls every 10 s).
    await expect.poll(() => page.getByTestId('bot-status').getAttribute('data-status'), { timeout: 15_000 }).toBe('connected')
    expect(await page.getByTestId('bot-status').textContent()).toContain(`@${username}`)
    await page.screenshot({ path: screenshotPath('bot-settings') })

    // An editor sees which bot, not how to change it.
    const editor = await app.admin('Eli', { role: 'editor', space })
    await editor.page.goto(`${app.baseUrl}/#/${space}/settings`)
    await editor.page.getByTestId('bot-current').getByText(`@${username}`).waitFor()
    expect(await editor.page.getByLabel(/bot token/i).count()).toBe(0)
    expect(await editor.page.getByRole('button', { name: 'Remove bot' }).count()).toBe(0)
  })
})

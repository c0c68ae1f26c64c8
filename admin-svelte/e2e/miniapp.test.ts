import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { docName, getSettingsText, getStepMessage, setFormattedText, setTextPublic, updateScenario } from '@botsync/shared-docs'
import { FakeTelegram } from '@botsync/testkit/fake-bot-api'
import { uniqueSpace } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'
import { E2eApp, formattedTexts, screenshotPath, selectText, stepMessage } from './harness.ts'

const TELEGRAM_TOKEN = `123456:e2e-${uniqueSpace()}`
const BOT_USERNAME = 'botsync_reader_e2e_bot'
const telegram = new FakeTelegram()

describe('Mini App page', () => {
  let app: E2eApp
  const space = uniqueSpace()

  beforeAll(async () => {
    await telegram.start()
    // The bootstrap bot of BOT_SPACE on the fake Bot API: running, it knows its @username from getMe.
    telegram.bot({ token: TELEGRAM_TOKEN, botUsername: BOT_USERNAME })
    app = await E2eApp.start({ TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, BOT_SPACE: space, TELEGRAM_API_ROOT: telegram.apiRoot })
    await app.seedSpace(space)
    await app.server.bots.run()
    await app.server.bots.started(space)
  })
  afterEach(() => app.assertNoPageErrors())
  afterAll(async () => {
    await app?.close()
    await telegram.stop()
  })

  async function openReader(launch: 'url' | 'webapp', viewport?: { width: number; height: number }): Promise<Page> {
    const page = await (await app.newContext({ viewport })).newPage()
    page.on('pageerror', (error) => app.pageErrors.push(`[reader] ${error.stack ?? error.message}`))
    const initData = signInitData(TELEGRAM_TOKEN, { user: { id: 77, first_name: 'Rita' } })
    const theme = { bg_color: '#112233', text_color: '#eeeeee', secondary_bg_color: '#223344' }
    if (launch === 'webapp') {
      // As when Telegram's telegram-web-app.js is on the page, with its back button (which records what the page asks of it).
      await page.addInitScript(
        ([data, themeParams]) => {
          const back = { visible: false, callbacks: [] as (() => void)[] }
          ;(window as unknown as { __back: typeof back }).__back = back
          const BackButton = {
            show: () => void (back.visible = true),
            hide: () => void (back.visible = false),
            onClick: (callback: () => void) => void back.callbacks.push(callback),
            offClick: (callback: () => void) => void (back.callbacks = back.callbacks.filter((c) => c !== callback)),
          }
          ;(window as unknown as { Telegram: unknown }).Telegram = { WebApp: { initData: data, themeParams, BackButton, ready() {} } }
        },
        [initData, theme] as const,
      )
      await page.goto(`${app.baseUrl}/miniapp`)
    } else {
      // Telegram's launch parameters in the hash.
      const hash = new URLSearchParams({ tgWebAppData: initData, tgWebAppVersion: '8.0', tgWebAppPlatform: 'web', tgWebAppThemeParams: JSON.stringify(theme) })
      await page.goto(`${app.baseUrl}/miniapp#${hash}`)
    }
    return page
  }

  it('shows what admins publish, live, and removes what they unpublish', async () => {
    const ana = await app.admin('Ana', { space })
    const { page: admin } = ana
    await admin.goto(`${app.baseUrl}/#/${space}/settings`)
    await admin.getByRole('switch', { name: 'Welcome message public in the Mini App' }).check()
    await admin.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await admin.getByRole('switch', { name: 'Support public in the Mini App' }).check()
    await expect.poll(() => admin.getByRole('switch', { name: 'Support public in the Mini App' }).isChecked()).toBe(true)

    const reader = await openReader('url')
    const welcome = reader.locator('[data-text-key="welcome"]')
    await expect.poll(() => welcome.textContent()).toBe('Welcome to the botsync demo bot! Pick an option below.')
    const support = reader.locator('[data-scenario-id="support"]')
    await expect.poll(() => support.locator('h2').textContent()).toBe('Support')
    expect(await support.locator('.step').allTextContents()).toContain('What do you need help with?')
    // The main menu keeps only the button to the public scenario (the demo menu: Get started | Support, Website).
    expect(await reader.getByRole('navigation', { name: 'Menu' }).getByRole('button').allTextContents()).toEqual(['Support'])
    // Only what is public: no private scenario, no private text.
    expect(await reader.locator('[data-scenario-id="onboarding"]').count()).toBe(0)
    expect(await reader.locator('[data-text-key="fallback"]').count()).toBe(0)
    // Telegram's theme colours are applied.
    expect(await reader.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(17, 34, 51)')

    // The same launch through window.Telegram.WebApp.
    const webAppReader = await openReader('webapp')
    await expect.poll(() => webAppReader.locator('[data-text-key="welcome"]').textContent()).toBe('Welcome to the botsync demo bot! Pick an option below.')

    // An admin edits the public text: both readers change live.
    await admin.goto(`${app.baseUrl}/#/${space}/settings`)
    await admin.locator('#text-welcome').fill('Hello from the Mini App test')
    await expect.poll(() => welcome.textContent()).toBe('Hello from the Mini App test')
    await expect.poll(() => webAppReader.locator('[data-text-key="welcome"]').textContent()).toBe('Hello from the Mini App test')

    // Formatting reaches the reader as Telegram draws it: bold, and a link that stays a link.
    const field = admin.locator('#text-welcome')
    await selectText(field, 'Mini App')
    await field.press('Control+b')
    await expect.poll(() => formattedTexts(welcome, 'strong')).toEqual(['Mini App'])
    expect(await welcome.textContent()).toBe('Hello from the Mini App test')
    expect(await welcome.evaluate((node) => getComputedStyle(node.querySelector('strong')!).fontWeight)).toBe('700')
    // A step's formatting too.
    await admin.goto(`${app.baseUrl}/#/${space}/scenario/support`)
    const topic = stepMessage(admin, 'topic')
    await selectText(topic, 'help')
    await topic.press('Control+i')
    await expect.poll(() => formattedTexts(support, '.step em')).toEqual(['help'])

    // Unpublishing the scenario removes it from the open page.
    await admin.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await admin.getByRole('switch', { name: 'Support public in the Mini App' }).uncheck()
    await expect.poll(() => support.count()).toBe(0)
    expect(await reader.getByRole('navigation', { name: 'Menu' }).count()).toBe(0)
    await expect.poll(() => reader.getByText('Nothing published yet.').count()).toBe(1)
    expect(await reader.locator('[data-text-key="welcome"]').textContent()).toBe('Hello from the Mini App test')
  })

  it('reads {name} as the reader’s first name and hides other variables, shows scenarios as sections of step cards, and opens one with Telegram’s back button', async () => {
    // Public content with variables, bold over {name}, written as the server writes.
    await app.server.writer.change(docName.settings(space), (doc) => {
      setFormattedText(getSettingsText(doc, 'welcome')!, 'Hi {name}, your code is {code} today.', [
        { type: 'bold', offset: 3, length: 6 },
        { type: 'italic', offset: 31, length: 5 },
      ])
      setTextPublic(doc, 'welcome', true)
    })
    await app.server.writer.change(docName.scenarios(space), (doc) => void updateScenario(doc, 'support', { public: true }))
    await app.server.writer.change(docName.scenario(space, 'support'), (doc) => {
      setFormattedText(getStepMessage(doc, 'topic')!, '{name}, what do you need help with? {topic} Tell us.', [{ type: 'italic', offset: 36, length: 7 }])
    })

    for (const launch of ['url', 'webapp'] as const) {
      const reader = await openReader(launch)
      const welcome = reader.locator('[data-text-key="welcome"]')
      await expect.poll(() => welcome.textContent()).toBe('Hi Rita, your code is today.')
      expect(await formattedTexts(welcome, 'strong')).toEqual(['Rita'])
      // After the hidden one, the formatting is still on its word.
      expect(await formattedTexts(welcome, 'em')).toEqual(['today'])
      const support = reader.locator('[data-scenario-id="support"]')
      // Each step is its own card, in order; the variable without a value is gone with its space.
      await expect
        .poll(() => support.locator('li.step').allTextContents())
        .toEqual(['Rita, what do you need help with? Tell us.', 'Write to support@example.com and we will answer within one business day.'])
      expect(await formattedTexts(support, 'li.step em')).toEqual([])
      expect(await reader.locator('main').textContent()).not.toMatch(/[{}]/)
      // Cards, not one paragraph: two boxes one above the other.
      const [first, second] = await Promise.all([0, 1].map((n) => support.locator('li.step').nth(n).boundingBox()))
      expect(second!.y).toBeGreaterThanOrEqual(first!.y + first!.height)

      // The menu button opens the scenario alone.
      await reader.getByRole('navigation', { name: 'Menu' }).getByRole('button', { name: 'Support' }).click()
      const open = reader.locator('[data-view="open"][data-scenario-id="support"]')
      await open.getByRole('heading', { name: 'Support', level: 1 }).waitFor()
      expect(await reader.locator('[data-text-key="welcome"]').count()).toBe(0)
      expect(await open.locator('li.step').count()).toBe(2)
      if (launch === 'webapp') {
        // Telegram draws the back button; the page draws none of its own, and Telegram's goes back.
        expect(await reader.evaluate(() => (window as unknown as { __back: { visible: boolean } }).__back.visible)).toBe(true)
        expect(await reader.getByRole('button', { name: 'Back' }).count()).toBe(0)
        await reader.evaluate(() => (window as unknown as { __back: { callbacks: (() => void)[] } }).__back.callbacks.forEach((callback) => callback()))
        expect(await reader.evaluate(() => (window as unknown as { __back: { visible: boolean } }).__back.visible)).toBe(false)
      } else {
        // Outside Telegram: the page's own back button.
        await reader.getByRole('button', { name: 'Back' }).click()
      }
      await welcome.waitFor()
      expect(await open.count()).toBe(0)
    }

    // The pictures in the README: the page at 1280 px and 390 px.
    for (const width of [1280, 390]) {
      const reader = await openReader('url', { width, height: width === 390 ? 844 : 800 })
      await reader.locator('[data-scenario-id="support"] li.step').first().waitFor()
      await reader.screenshot({ path: screenshotPath(`miniapp-${width}`), fullPage: width === 390 })
    }
  })

  it('explains how to open the page from the bot when it has no launch data, and a refused launch in a sentence', async () => {
    const page = await (await app.newContext()).newPage()
    await page.goto(`${app.baseUrl}/miniapp`)
    const problem = page.getByTestId('launch-problem')
    await problem.getByRole('heading', { name: 'Open this page in Telegram' }).waitFor()
    await expect.poll(() => page.getByTestId('bot-name').textContent()).toContain(`@${BOT_USERNAME}`)
    expect(await page.getByRole('link', { name: `Open @${BOT_USERNAME}` }).getAttribute('href')).toBe(`https://t.me/${BOT_USERNAME}`)
    await page.screenshot({ path: screenshotPath('miniapp-no-launch') })

    const expired = signInitData(TELEGRAM_TOKEN, { auth_date: Math.floor(Date.now() / 1000) - 2 * 86400 })
    await page.goto(`${app.baseUrl}/miniapp#tgWebAppData=${encodeURIComponent(expired)}`)
    await page.reload()
    await expect.poll(() => problem.getAttribute('data-reason')).toBe('init-data-expired')
    expect(await page.getByRole('alert').textContent()).toBe('This link has expired. Open the page again from the bot.')
    // No code on screen.
    expect(await page.locator('main').innerText()).not.toMatch(/init-data|expired\)|miniapp-disabled/)

    // A space without a bot: a sentence, not `miniapp-disabled`.
    const other = uniqueSpace()
    await page.goto(`${app.baseUrl}/miniapp?space=${other}#tgWebAppData=${encodeURIComponent(signInitData(TELEGRAM_TOKEN))}`)
    await expect.poll(() => problem.getAttribute('data-reason')).toBe('miniapp-disabled')
    expect(await page.getByRole('alert').textContent()).toBe('This page is not available yet: its bot is not set up.')
    expect(await page.locator('main').innerText()).not.toContain('miniapp-disabled')
  })

  it('has a favicon: /favicon.ico and the pages’ SVG icon', async () => {
    const ico = await fetch(`${app.baseUrl}/favicon.ico`)
    expect(ico.status).toBe(200)
    expect(ico.headers.get('content-type')).toBe('image/x-icon')
    // An ICO file: reserved 0, type 1 (icon).
    expect([...new Uint8Array(await ico.arrayBuffer()).slice(0, 4)]).toEqual([0, 0, 1, 0])
    for (const path of ['/', '/miniapp']) {
      const page = await (await app.newContext()).newPage()
      await page.goto(`${app.baseUrl}${path}`)
      const href = await page.locator('link[rel="icon"]').getAttribute('href')
      const icon = await fetch(new URL(href!, app.baseUrl))
      expect(icon.status).toBe(200)
      expect(icon.headers.get('content-type')).toBe('image/svg+xml')
    }
  })
})

import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { uniqueSpace } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'
import { E2eApp, formattedTexts, selectText, stepMessage, useE2eApp } from './harness.ts'

const TELEGRAM_TOKEN = `123456:e2e-${uniqueSpace()}`

describe('Mini App page', () => {
  let app: E2eApp
  const space = uniqueSpace()
  useE2eApp(
    async (started) => {
      app = started
      await app.seedSpace(space)
    },
    { TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, BOT_SPACE: space },
  )

  async function openReader(launch: 'url' | 'webapp'): Promise<Page> {
    const page = await (await app.newContext()).newPage()
    page.on('pageerror', (error) => app.pageErrors.push(`[reader] ${error.stack ?? error.message}`))
    const initData = signInitData(TELEGRAM_TOKEN, { user: { id: 77, first_name: 'Rita' } })
    const theme = { bg_color: '#112233', text_color: '#eeeeee', secondary_bg_color: '#223344' }
    if (launch === 'webapp') {
      // As when Telegram's telegram-web-app.js is on the page.
      await page.addInitScript(
        ([data, themeParams]) => {
          ;(window as unknown as { Telegram: unknown }).Telegram = { WebApp: { initData: data, themeParams, ready() {} } }
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
    expect(await reader.getByRole('navigation', { name: 'Menu' }).getByRole('link').allTextContents()).toEqual(['Support'])
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

  it('tells a reader without valid launch data what is wrong', async () => {
    const page = await (await app.newContext()).newPage()
    await page.goto(`${app.baseUrl}/miniapp`)
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Open this page from the bot in Telegram.')
    const expired = signInitData(TELEGRAM_TOKEN, { auth_date: Math.floor(Date.now() / 1000) - 2 * 86400 })
    await page.goto(`${app.baseUrl}/miniapp#tgWebAppData=${encodeURIComponent(expired)}`)
    await page.reload()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('init-data-expired')
  })
})

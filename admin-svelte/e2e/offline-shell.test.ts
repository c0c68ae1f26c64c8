// The admin as an offline app: its service worker serves the built admin
// when the server is down and the browser offline, the documents come from
// IndexedDB, edits made then reach PostgreSQL when both are back; a new tab
// opened offline works as the remembered user; the Mini App is never served
// from the admin's cache; a new version of the admin waits for "Reload".
import { appendFileSync, cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { E2eApp, messageText, stepMessage, useE2eApp } from './harness.ts'

// A copy of the admin e2e/build-admin.ts built: the last test changes its sw.js, as a deploy of a new version would.
const adminDir = join(mkdtempSync(join(tmpdir(), 'botsync-admin-shell-')), 'dist')
cpSync(new URL('../dist', import.meta.url).pathname, adminDir, { recursive: true })

/** Waits until the page's service worker is installed and active (its precache is complete then). */
async function serviceWorkerActive(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
  })
}

const controlled = (page: Page) => page.evaluate(() => navigator.serviceWorker.controller !== null)

describe('the offline app shell', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started), { ADMIN_DIR: adminDir })

  it('opens from the service worker with the server down and the browser offline, keeps an edit made then, and saves it when both are back', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    // The first visit installs the service worker; the page it installed from is not controlled by it.
    await serviceWorkerActive(ana.page)
    expect(await controlled(ana.page)).toBe(false)
    await ana.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => messageText(stepMessage(ana.page, 'welcome'))).toContain("Let's get you set up")
    await expect.poll(() => ana.page.getByTestId('save-status').textContent()).toBe('All changes saved')

    // The outage: the server stops, the browser goes offline.
    await app.stopServer()
    await ana.context.setOffline(true)
    await ana.cutWebSocket()
    await ana.page.reload()
    expect(await controlled(ana.page)).toBe(true)
    // Logged in, the scenario from this device's copy, editable.
    await expect.poll(() => messageText(stepMessage(ana.page, 'welcome'))).toContain("Let's get you set up")
    expect(await ana.page.getByLabel('Password').count()).toBe(0)
    expect(await ana.page.getByTestId('connection-status').textContent()).toBe('Offline')
    expect(await stepMessage(ana.page, 'welcome').isEditable()).toBe(true)
    await stepMessage(ana.page, 'welcome').fill('Written while the server was down')
    await expect.poll(() => ana.page.getByTestId('save-status').textContent()).toBe('Not saved yet, kept on this device')

    // A new tab, offline too: no token in it yet, but the browser's remembered user opens the cached documents, edit included.
    const tab = await ana.context.newPage()
    await tab.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => messageText(stepMessage(tab, 'welcome'))).toBe('Written while the server was down')
    expect(await tab.getByLabel('Password').count()).toBe(0)

    // The Mini App is its own page: the admin's service worker does not answer it from the cache.
    const miniApp = await ana.context.newPage()
    await expect(miniApp.goto(`${app.baseUrl}/miniapp?space=${space}`)).rejects.toThrow(/ERR_INTERNET_DISCONNECTED/)
    await miniApp.close()

    await app.restartServer()
    // The server is back but the browser still offline: PostgreSQL has not seen the edit.
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).not.toContain('server was down')
    ana.restoreWebSocket()
    await ana.context.setOffline(false)
    for (const page of [ana.page, tab]) await expect.poll(() => page.getByTestId('save-status').textContent(), { timeout: 15_000 }).toBe('All changes saved')
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe('Written while the server was down')
    // The tab opened offline got its token from the refresh cookie: it is logged in, and its edits are saved too.
    await stepMessage(tab, 'finish').fill('Typed in the tab opened offline')
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.finish.message).toBe('Typed in the tab opened offline')
  })

  it('offers a new version with a prompt, does not reload by itself, and switches to it on "Reload"', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    await serviceWorkerActive(ana.page)
    await ana.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await ana.page.reload()
    expect(await controlled(ana.page)).toBe(true)
    await expect.poll(() => messageText(stepMessage(ana.page, 'welcome'))).toContain("Let's get you set up")
    const prompt = ana.page.getByTestId('app-update')
    expect(await prompt.count()).toBe(0)

    // A new deploy: the worker's script differs from the installed one.
    appendFileSync(join(adminDir, 'sw.js'), `\n// deployed ${Date.now()}\n`)
    // Mid-edit: a page that reloaded by itself would lose this marker.
    await stepMessage(ana.page, 'welcome').fill('Half-way through a sentence')
    await ana.page.evaluate(() => {
      ;(window as unknown as { __samePage: boolean }).__samePage = true
    })
    // The page checks hourly and at each load; the test asks now.
    await ana.page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration())?.update()
    })
    await prompt.waitFor()
    expect(await prompt.textContent()).toContain('New version of botsync')
    // The new worker waits; the page stays as it is.
    await ana.page.waitForTimeout(1500)
    expect(await ana.page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBe(true)
    expect(await ana.page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration())?.waiting))).toBe(true)
    expect(await messageText(stepMessage(ana.page, 'welcome'))).toBe('Half-way through a sentence')

    await Promise.all([ana.page.waitForEvent('load'), prompt.getByRole('button', { name: 'Reload' }).click()])
    expect(await ana.page.evaluate(() => (window as unknown as { __samePage?: boolean }).__samePage)).toBeUndefined()
    await expect.poll(() => ana.page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration())?.waiting))).toBe(false)
    expect(await controlled(ana.page)).toBe(true)
    expect(await prompt.count()).toBe(0)
    // The edit made before the reload is still there, and saved.
    await expect.poll(() => messageText(stepMessage(ana.page, 'welcome'))).toBe('Half-way through a sentence')
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe('Half-way through a sentence')
  })
})

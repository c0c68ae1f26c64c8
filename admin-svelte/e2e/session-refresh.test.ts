import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { E2eApp, stepMessage, useE2eApp } from './harness.ts'

// Admin tokens live 4 s here: the admin refreshes them (POST /api/refresh,
// with the HttpOnly refresh cookie) at 80 % of their lifetime and hands each
// new one to its open providers.
const TTL_SECONDS = 4

describe('session refresh', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started), { JWT_TTL_SECONDS: String(TTL_SECONDS) })

  const token = (admin: { page: import('playwright-core').Page }) =>
    admin.page.evaluate(() => (JSON.parse(sessionStorage.getItem('botsync:session') ?? '{}') as { token?: string }).token)

  it('keeps the session, its write access and unsynced edits across token expiries', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    await ana.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => ana.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    const first = await token(ana)

    // An edit made offline, kept while the token it was made under expires.
    await ana.cutWebSocket()
    await stepMessage(ana.page, 'welcome').fill('Written while the first token expired')
    await expect.poll(() => ana.page.getByTestId('save-status').textContent()).toBe('Not saved yet, kept on this device')
    await ana.page.waitForTimeout((TTL_SECONDS + 1) * 1000)
    expect(await token(ana)).not.toBe(first)

    // Reconnecting authenticates with the refreshed token: no login page, the edit is saved.
    ana.restoreWebSocket()
    await ana.page.evaluate(() => window.dispatchEvent(new Event('online')))
    await expect.poll(() => ana.page.getByTestId('save-status').textContent(), { timeout: 10_000 }).toBe('All changes saved')
    expect(await ana.page.getByLabel('Password').count()).toBe(0)
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe('Written while the first token expired')

    // Connected across another expiry: the open socket keeps write access.
    const connectedWith = await token(ana)
    await ana.page.waitForTimeout((TTL_SECONDS + 1) * 1000)
    expect(await token(ana)).not.toBe(connectedWith)
    await stepMessage(ana.page, 'welcome').fill('Written after the second expiry, never disconnected')
    await expect.poll(() => ana.page.getByTestId('save-status').textContent(), { timeout: 10_000 }).toBe('All changes saved')
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe('Written after the second expiry, never disconnected')
  })

  it('logs a new tab of the same browser in from the refresh cookie, and a new browser not', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    // The cookie is for the API only, and scripts cannot read it.
    const [cookie] = await ana.context.cookies()
    expect(cookie).toMatchObject({ name: 'botsync_refresh', path: '/api', httpOnly: true, sameSite: 'Strict', secure: false })
    expect(await ana.page.evaluate(() => document.cookie)).toBe('')

    const tab = await ana.context.newPage()
    await tab.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await tab.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    expect(await tab.getByLabel('Password').count()).toBe(0)
    // Both tabs keep refreshing the one cookie (rotated each time) across expiries, and stay logged in.
    await tab.waitForTimeout((TTL_SECONDS * 2 + 1) * 1000)
    for (const page of [ana.page, tab]) {
      await page.reload()
      await page.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    }

    const stranger = await (await app.newContext()).newPage()
    await stranger.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await stranger.getByLabel('Password').waitFor()
  })

  it('turns the pages read-only the moment the role is lowered in the database, and editable when it is raised', async () => {
    const space = await app.seedSpace()
    // Unique: the update below finds the user by name (the harness makes the email from it).
    const name = `Dora${randomUUID().slice(0, 8)}`
    const dora = await app.admin(name, { space })
    await dora.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => dora.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    expect(await dora.page.getByTestId('read-only-badge').count()).toBe(0)
    expect(await stepMessage(dora.page, 'welcome').isEditable()).toBe(true)

    await app.server.db.query(`UPDATE space_members SET role = 'viewer' WHERE space = $1 AND user_id = (SELECT id FROM users WHERE name = $2)`, [space, name])
    await dora.page.getByTestId('read-only-badge').waitFor()
    // A lasting banner, not a toast: it stays until the role is raised again.
    await expect.poll(() => dora.page.getByTestId('read-only-now').textContent()).toContain('You are a viewer in this space now')
    expect(await stepMessage(dora.page, 'welcome').isEditable()).toBe(false)

    // And editable again when it is raised, without a reload.
    await app.server.db.query(`UPDATE space_members SET role = 'editor' WHERE space = $1 AND user_id = (SELECT id FROM users WHERE name = $2)`, [space, name])
    await expect.poll(() => dora.page.getByTestId('read-only-badge').count()).toBe(0)
    await expect.poll(() => dora.page.getByTestId('read-only-now').count()).toBe(0)
    await stepMessage(dora.page, 'welcome').fill('Edited after the promotion')
    await expect.poll(() => dora.page.getByTestId('save-status').textContent(), { timeout: 10_000 }).toBe('All changes saved')
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe('Edited after the promotion')
  })
})

describe('log out everywhere', () => {
  let app: E2eApp
  // Hour-long access tokens (the default): no renewal is due during the test.
  useE2eApp((started) => (app = started))

  it("ends every session of the user with 'Log out everywhere': the other browser's sockets are closed, its refresh fails, and it shows the login page at once", async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    // The same user in another browser.
    const laptop = await (await app.newContext()).newPage()
    await laptop.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await laptop.getByLabel('Email').fill(ana.email)
    await laptop.getByLabel('Password').fill(ana.password)
    await laptop.getByRole('button', { name: 'Log in' }).click()
    await laptop.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    // Connected (its socket is what the server closes).
    await expect.poll(() => laptop.getByTestId('save-status').textContent()).toBe('All changes saved')

    await ana.page.getByRole('button', { name: 'Log out everywhere' }).click()
    await ana.page.getByLabel('Password').waitFor()
    expect(await ana.page.getByRole('status').textContent()).toMatch(/every device/)

    // Its access token is good for an hour: the closed socket, not a renewal, is what made it refresh (and fail).
    await laptop.getByLabel('Password').waitFor({ timeout: 5_000 })
    expect(await laptop.getByRole('status').textContent()).toMatch(/ended/)
    // A new tab in either browser finds no session.
    const again = await ana.context.newPage()
    await again.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await again.getByLabel('Password').waitFor()
  })
})

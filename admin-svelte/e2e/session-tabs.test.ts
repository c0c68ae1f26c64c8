// One browser, several tabs: a new tab opens logged in (the refresh cookie
// gives it its own access token), a logout in one tab logs out the others at
// once, and after the session ended the login form has the email filled in.
import { describe, expect, it } from 'vitest'
import { apiRequest, login } from '@botsync/testkit/server'
import { E2eApp, useE2eApp } from './harness.ts'

describe('the session across the tabs of one browser', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  it('opens a second tab logged in, and a logout in either tab logs out both', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const tab = await ana.context.newPage()
    await tab.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await tab.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    expect(await tab.getByLabel('Password').count()).toBe(0)
    // Its own access token: none is shared through storage.
    expect(await tab.evaluate(() => Object.values(localStorage).some((value) => value.includes('"token"')))).toBe(false)

    await tab.getByRole('button', { name: 'Log out', exact: true }).click()
    await tab.getByLabel('Password').waitFor()
    // The first tab, without a reload.
    await ana.page.getByLabel('Password').waitFor({ timeout: 5_000 })
    expect(await ana.page.getByRole('status').first().textContent()).toMatch(/logged out in another tab/)
    // A logout forgets who it was: the form is empty.
    expect(await ana.page.getByLabel('Email').inputValue()).toBe('')

    // Logging in again in one tab logs the other in as well.
    await ana.page.getByLabel('Email').fill(ana.email)
    await ana.page.getByLabel('Password').fill(ana.password)
    await ana.page.getByRole('button', { name: 'Log in' }).click()
    await ana.page.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    await tab.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor({ timeout: 5_000 })

    await ana.page.getByRole('button', { name: 'Log out', exact: true }).click()
    await tab.getByLabel('Password').waitFor({ timeout: 5_000 })
  })

  it('fills in the email on the login form after the session ended', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    await expect.poll(() => ana.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    // Logged out everywhere from another device: this browser's session is over.
    const other = await login(app.baseUrl, ana.email, ana.password)
    expect((await apiRequest(app.server, 'POST', '/api/logout-all', other)).status).toBeLessThan(300)
    await ana.page.getByLabel('Password').waitFor({ timeout: 5_000 })
    expect(await ana.page.getByLabel('Email').inputValue()).toBe(ana.email)
    // A new tab after that: the form, with the email too.
    const tab = await ana.context.newPage()
    await tab.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await tab.getByLabel('Password').waitFor()
    expect(await tab.getByLabel('Email').inputValue()).toBe(ana.email)
  })
})

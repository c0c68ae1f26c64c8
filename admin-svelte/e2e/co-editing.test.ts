import { mkdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { E2eApp, messageText, stepMessage, useE2eApp } from './harness.ts'

// Every run writes test-results/; UPDATE_SCREENSHOTS=1 refreshes the copy the README shows.
const SCREENSHOT = new URL(process.env.UPDATE_SCREENSHOTS ? '../../docs/screenshots/scenario-editor.png' : '../../test-results/scenario-editor.png', import.meta.url).pathname

describe('two admins co-editing a scenario', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  it('each sees the other’s edits and presence, and concurrent typing in one message keeps both', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    for (const admin of [ana, ben]) await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    for (const admin of [ana, ben]) await expect.poll(() => messageText(stepMessage(admin.page, 'welcome'))).toContain("Let's get you set up")

    // Presence: each sees the other's avatar in the editor header.
    await expect.poll(() => ana.page.getByTestId('presence').getByTitle('Ben').count()).toBe(1)
    await expect.poll(() => ben.page.getByTestId('presence').getByTitle('Ana').count()).toBe(1)

    // Ana works on step 2; Ben sees where she is.
    await stepMessage(ana.page, 'ask_name').click()
    const benStep2 = ben.page.locator('[data-step-id="ask_name"]')
    await expect.poll(() => benStep2.getByTestId('editing-badge').textContent()).toBe('Ana is editing “What should I call you?”')

    // Ana's edit reaches Ben.
    await stepMessage(ana.page, 'ask_name').press('End')
    await stepMessage(ana.page, 'ask_name').pressSequentially(' (first name is fine)')
    await expect.poll(() => messageText(stepMessage(ben.page, 'ask_name'))).toBe('What should I call you? (first name is fine)')

    // Both type into the same message at once: Ana at the end, Ben at the start.
    const anaField = stepMessage(ana.page, 'finish')
    const benField = stepMessage(ben.page, 'finish')
    await anaField.click()
    await anaField.press('End')
    await benField.click()
    await benField.press('Home')
    await Promise.all([anaField.pressSequentially(' See you soon.', { delay: 15 }), benField.pressSequentially('Hello! ', { delay: 15 })])
    const expected = 'Hello! Nice to meet you, {name}! You are all set. See you soon.'
    await expect.poll(() => messageText(anaField)).toBe(expected)
    await expect.poll(() => messageText(benField)).toBe(expected)

    // And it is what PostgreSQL holds once both indicators say so.
    for (const admin of [ana, ben]) await expect.poll(() => admin.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    const stored = await app.storedScenario(space, 'onboarding')
    expect(stored.steps.finish.message).toBe(expected)
    expect(stored.steps.ask_name.message).toBe('What should I call you? (first name is fine)')

    // The README's picture: Ana's editor, Ben present and working on step 1.
    await stepMessage(ben.page, 'welcome').click()
    await expect.poll(() => ana.page.locator('[data-step-id="welcome"]').getByTestId('editing-badge').textContent()).toBe("Ben is editing “Hi! Let's get you set up…”")
    await ana.page.evaluate(() => window.scrollTo(0, 0))
    mkdirSync(new URL('.', `file://${SCREENSHOT}`).pathname, { recursive: true })
    await ana.page.screenshot({ path: SCREENSHOT })
  })

  it('undo reverts only the undoing admin’s edit', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    for (const admin of [ana, ben]) await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    const original = "Hi! Let's get you set up. It takes less than a minute."
    for (const admin of [ana, ben]) await expect.poll(() => messageText(stepMessage(admin.page, 'welcome'))).toBe(original)

    const anaField = stepMessage(ana.page, 'welcome')
    await anaField.click()
    await anaField.press('End')
    await anaField.pressSequentially(' [Ana]')
    await expect.poll(() => messageText(stepMessage(ben.page, 'welcome'))).toBe(`${original} [Ana]`)

    const benField = stepMessage(ben.page, 'welcome')
    await benField.click()
    await benField.press('Home')
    await benField.pressSequentially('[Ben] ')
    await expect.poll(() => messageText(anaField)).toBe(`[Ben] ${original} [Ana]`)

    // Ana undoes: her words go, Ben's stay, on both screens.
    await anaField.press('Control+z')
    await expect.poll(() => messageText(anaField)).toBe(`[Ben] ${original}`)
    await expect.poll(() => messageText(benField)).toBe(`[Ben] ${original}`)

    // Redo brings hers back; Ben's undo then takes only his.
    await anaField.press('Control+Shift+z')
    await expect.poll(() => messageText(benField)).toBe(`[Ben] ${original} [Ana]`)
    await benField.press('Control+z')
    await expect.poll(() => messageText(anaField)).toBe(`${original} [Ana]`)

    for (const admin of [ana, ben]) await expect.poll(() => admin.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe(`${original} [Ana]`)
  })
})

import { applyActivityEvents, docName } from '@botsync/shared-docs'
import { describe, expect, it } from 'vitest'
import { E2eApp, messageText, stepMessage, useE2eApp } from './harness.ts'

describe('validation, roles, activity and layout', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  it('shows a 65-byte callback payload and a 5,000-character message as problems next to the field', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const { page } = ana

    await page.goto(`${app.baseUrl}/#/${space}/buttons`)
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('No problems')
    await page.getByLabel('Label', { exact: true }).first().waitFor()
    await page.locator('#new-button-text').fill('Order status')
    await page.locator('#new-button-type').selectOption('callback')
    await page.locator('#new-button-id').fill('order_status')
    await page.getByRole('button', { name: 'Create button' }).click()
    const card = page.locator('[data-button-id="order_status"]')
    await card.getByLabel('Callback data').fill('x'.repeat(65))
    await expect.poll(() => card.getByTestId('field-problems').textContent()).toBe('Callback data is 65 bytes; Telegram allows at most 64.')
    expect(await card.getByLabel('Callback data').getAttribute('aria-invalid')).toBe('true')
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('1 problem')
    // 64 bytes is fine; the problem goes away as soon as the data fits.
    await card.getByLabel('Callback data').fill('x'.repeat(64))
    await expect.poll(() => card.getByTestId('field-problems').count()).toBe(0)
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('No problems')

    await page.goto(`${app.baseUrl}/#/${space}/scenario/support`)
    await stepMessage(page, 'contact').fill('a'.repeat(5000))
    const step = page.locator('[data-step-id="contact"]')
    await expect.poll(() => step.getByTestId('field-problems').textContent()).toBe('Message text is 5000 characters; Telegram allows at most 4096.')
    await expect.poll(() => page.getByTestId('problem-count').textContent()).toBe('1 problem')
    // Invalid content is still saved (the bot skips just that step), nothing is lost.
    await expect.poll(() => page.getByTestId('save-status').textContent()).toBe('All changes saved')
    expect((await app.storedScenario(space, 'support')).steps.contact.message).toHaveLength(5000)
  })

  it('gives a viewer a read-only UI and changes nothing', async () => {
    const space = await app.seedSpace()
    const vera = await app.admin('Vera', { space, role: 'viewer' })
    const editor = await app.admin('Ed', { space })
    const { page } = vera
    const before = await app.storedScenario(space, 'onboarding')

    expect(await page.getByRole('button', { name: 'Create scenario' }).count()).toBe(0)
    expect(await page.getByRole('switch').first().isDisabled()).toBe(true)

    await page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => messageText(stepMessage(page, 'welcome'))).toContain("Let's get you set up")
    expect(await page.getByTestId('read-only-badge').textContent()).toBe('Read-only')
    expect(await page.getByRole('button', { name: '+ Add step' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Undo' }).count()).toBe(0)
    const editable = await page.locator('main input:not([disabled]), main textarea:not([disabled]), main select:not([disabled])').count()
    expect(editable).toBe(0)
    // Clicking and typing change nothing: the fields cannot take focus.
    await stepMessage(page, 'welcome').click({ force: true })
    await page.keyboard.type('viewer was here')
    await page.keyboard.press('Control+z')

    // The viewer still sees live edits made by an editor.
    await editor.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await stepMessage(editor.page, 'finish').fill('Edited while Vera watched.')
    await expect.poll(() => messageText(stepMessage(page, 'finish'))).toBe('Edited while Vera watched.')

    for (const path of ['buttons', 'settings']) {
      await page.goto(`${app.baseUrl}/#/${space}/${path}`)
      await page.getByTestId('read-only-badge').waitFor()
      await expect.poll(() => page.locator('main input, main textarea, main select').count()).toBeGreaterThan(0)
      expect(await page.locator('main input:not([disabled]), main textarea:not([disabled]), main select:not([disabled])').count()).toBe(0)
    }

    const after = await app.storedScenario(space, 'onboarding')
    expect(after.steps.welcome.message).toBe(before.steps.welcome.message)
    expect(after.steps.finish.message).toBe('Edited while Vera watched.')
  })

  it('shows live activity on its page without toasts there, and a burst of events elsewhere as one toast', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const { page } = ana
    await page.goto(`${app.baseUrl}/#/${space}/activity`)
    const pressed = page.locator('[data-testid="counter"][data-key="buttons:pressed"] .counter-value')
    await expect.poll(() => pressed.textContent()).toBe('0')
    const press = (count: number) =>
      app.server.writer.change(docName.activity(space), (doc) =>
        applyActivityEvents(
          doc,
          Array.from({ length: count }, (_, i) => ({ type: 'button_pressed' as const, at: Date.now() + i, buttonId: 'start' })),
        ),
      )

    // On the Activity page the event is listed, and not toasted: nor saved up for the next page.
    await press(1)
    await expect.poll(() => pressed.textContent()).toBe('1')
    expect(await page.getByTestId('event-list').textContent()).toContain('A user pressed “Get started”')
    expect(await page.getByTestId('toast').count()).toBe(0)

    // Elsewhere, three events at once are one toast that counts them (had the first been kept, it would say 4).
    await page.goto(`${app.baseUrl}/#/${space}/scenarios`)
    await page.getByTestId('scenario-row').first().waitFor()
    await press(3)
    await expect.poll(async () => (await page.getByTestId('toast').allTextContents()).map((text) => text.trim())).toEqual(['3 new events'])

    // Muting is remembered for this user across a reload.
    await page.goto(`${app.baseUrl}/#/${space}/activity`)
    await page.getByRole('switch', { name: 'Mute notifications' }).check()
    await page.reload()
    await expect.poll(() => page.getByRole('switch', { name: 'Mute notifications' }).isChecked()).toBe(true)
  })

  it('fits a narrow window without sideways scrolling, and is usable from the keyboard', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space, viewport: { width: 390, height: 800 } })
    const { page } = ana
    for (const path of ['scenarios', 'scenario/onboarding', 'buttons', 'settings', 'activity']) {
      await page.goto(`${app.baseUrl}/#/${space}/${path}`)
      await page.locator('main h1').first().waitFor()
      await page.waitForTimeout(200)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
      expect(overflow, `page ${path} scrolls sideways`).toBeLessThanOrEqual(0)
    }
    // Every form control on the editor has an accessible name.
    await page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await stepMessage(page, 'welcome').waitFor()
    const unlabelled = await page.evaluate(
      () =>
        [...document.querySelectorAll('main input, main textarea, main select')].filter((el) => {
          const input = el as HTMLInputElement
          return !(input.labels?.length || input.getAttribute('aria-label') || input.getAttribute('aria-labelledby'))
        }).length,
    )
    expect(unlabelled).toBe(0)
    // The message field is reachable with Tab from the step's title area.
    await stepMessage(page, 'welcome').focus()
    await page.keyboard.press('Control+End') // a contenteditable takes focus with the caret at its start
    await page.keyboard.type('!')
    await expect.poll(() => messageText(stepMessage(page, 'welcome'))).toMatch(/!$/)
  })
})

// Buttons made where they are used, and deletes that look first, in
// Chromium against the real server: Ana adds a button to a step's keyboard
// in one dialog, and the space's real telegraf bot (against the fake Bot
// API) shows it and follows it to the chosen step. Deleting a step that
// buttons and a step lead to lists them and sends them to another step, as
// PostgreSQL then holds. What is deleted waits in the trash, and a second
// admin restores it. Undo still reaches an edit made before a page change.
import { describe, expect, it } from 'vitest'
import { projectButtons, projectSettings } from '@botsync/shared-docs'
import { uniqueSpace } from '@botsync/testkit/server'
import type { Page } from 'playwright-core'
import * as Y from 'yjs'
import { E2eApp, messageText, screenshotPath, SpaceBot, useE2eAppWithBot, stepMessage } from './harness.ts'

const tom = { id: 9901, first_name: 'Tom' }

describe('buttons where they are used, and safe deletes', () => {
  let app: E2eApp
  let bot: SpaceBot
  const botSpace = uniqueSpace()

  useE2eAppWithBot(botSpace, 'buttons_e2e_bot', (started) => ({ app, bot } = started))

  async function stored(space: string, kind: 'buttons' | 'settings'): Promise<Y.Doc> {
    const { state } = await app.server.store.load(`${space}/${kind}`)
    const doc = new Y.Doc()
    if (state) Y.applyUpdate(doc, state)
    return doc
  }
  const storedButtons = async (space: string) => projectButtons(await stored(space, 'buttons'))

  async function allSaved(page: Page): Promise<void> {
    await expect.poll(() => page.getByTestId('save-status').textContent()).toBe('All changes saved')
  }

  it('adds a button to a step in one dialog; the bot shows it, and pressing it goes to the chosen step', async () => {
    const ana = await app.admin('Ana', { space: botSpace })
    const { page } = ana
    await page.goto(`${app.baseUrl}/#/${botSpace}/scenario/onboarding`)
    const welcome = page.locator('[data-step-id="welcome"]')
    await welcome.getByRole('button', { name: '+ Add button' }).click()

    const dialog = page.getByTestId('button-dialog')
    await dialog.getByLabel('Label').fill('Tell me more')
    // "Go to step…" is chosen, and the step after this one is picked, by its words rather than its id.
    expect(await dialog.getByLabel('When pressed').evaluate((select: HTMLSelectElement) => select.selectedOptions[0].text)).toBe('Go to step…')
    expect(await dialog.getByLabel('Step').evaluate((select: HTMLSelectElement) => select.selectedOptions[0].text)).toBe('What should I call you?')
    expect(await dialog.getByLabel('When pressed').evaluate((select: HTMLSelectElement) => [...select.options].map((option) => option.text))).toEqual([
      'Go to step…',
      'Go to another scenario…',
      'Open link',
      'Open Mini App page',
      'Go back',
      'End',
    ])
    await page.screenshot({ path: screenshotPath('add-button') })

    // A link Telegram would refuse keeps the dialog open with what was typed, and the reason.
    await dialog.getByLabel('When pressed').selectOption({ label: 'Open link' })
    await dialog.getByLabel('Link').fill('ftp://files.example.com')
    await dialog.getByRole('button', { name: 'Add button' }).click()
    await expect.poll(() => dialog.getByTestId('button-dialog-errors').textContent()).toMatch(/URL/)
    expect(await dialog.getByLabel('Label').inputValue()).toBe('Tell me more')
    expect(Object.values(await storedButtons(botSpace)).some((button) => button.text === 'Tell me more')).toBe(false)

    await dialog.getByLabel('When pressed').selectOption({ label: 'Go to step…' })
    await dialog.getByLabel('Step').selectOption({ label: 'Nice to meet you, {name}! You…' })
    await dialog.getByRole('button', { name: 'Add button' }).click()
    expect(await dialog.isVisible()).toBe(false)

    // The chip says where it leads.
    const chip = welcome.getByRole('button', { name: /^Edit button Tell me more/ })
    await expect.poll(() => chip.getByTestId('button-action').textContent()).toBe('→ Nice to meet you, {name}! You…')
    await allSaved(page)
    const created = Object.values(await storedButtons(botSpace)).find((button) => button.text === 'Tell me more')!
    expect(created.action).toEqual({ type: 'goto', scenarioId: 'onboarding', stepId: 'finish' })
    expect((await app.storedScenario(botSpace, 'onboarding')).steps.welcome.keyboard.rows).toEqual([['ob_continue'], ['ob_later'], [created.id]])

    // The bot: the new button under the welcome message, and pressing it goes to "finish".
    const first = await bot.start(tom, 'onboarding')
    const keyboard = (first.params.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }).inline_keyboard
    expect(keyboard.map((row) => row.map((button) => button.text))).toEqual([["Let's go"], ['Maybe later'], ['Tell me more']])
    const since = bot.fake.mark()
    bot.fake.clickButton(tom, first, keyboard[2][0].callback_data)
    const next = await bot.fake.nextMessageTo(tom.id, { since, timeoutMs: 15_000 })
    expect(next.message?.text).toMatch(/^Nice to meet you, .*! You are all set\.$/)

    // Clicking the chip edits the button, in the same dialog, prefilled.
    await chip.click()
    expect(await dialog.getByLabel('Label').inputValue()).toBe('Tell me more')
    expect(await dialog.getByLabel('Step').inputValue()).toBe('finish')
    await dialog.getByLabel('When pressed').selectOption({ label: 'Open link' })
    await dialog.getByLabel('Link').fill('https://example.com/more')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await expect
      .poll(() =>
        welcome
          .getByRole('button', { name: /^Edit button Tell me more/ })
          .getByTestId('button-action')
          .textContent(),
      )
      .toBe('↗ example.com')
    await allSaved(page)
    expect((await storedButtons(botSpace))[created.id].action).toEqual({ type: 'url', url: 'https://example.com/more' })

    // Reusing an existing button stays possible, from the same place.
    await page.locator('[data-step-id="ask_name"]').getByRole('button', { name: '+ Add button' }).click()
    await dialog.getByLabel('Use an existing button').check()
    await dialog.getByLabel('Button', { exact: true }).selectOption({ label: 'Back (Back)' })
    await dialog.getByRole('button', { name: 'Add to keyboard' }).click()
    await allSaved(page)
    expect((await app.storedScenario(botSpace, 'onboarding')).steps.ask_name.keyboard.rows).toEqual([['back']])
  })

  it('deleting a step that buttons and a step lead to lists them, and sends them to the step chosen', async () => {
    const space = await app.seedSpace()
    const { page } = await app.admin('Ana', { space })
    await page.goto(`${app.baseUrl}/#/${space}/scenario/support`)
    await page.locator('#step-topic-next').selectOption('contact')
    await page.getByRole('button', { name: '+ Add step' }).click()
    const added = page.locator('[data-testid="step-card"]').nth(2)
    const addedId = (await added.getAttribute('data-step-id'))!
    await stepMessage(page, addedId).fill('Our team will call you back.')
    await allSaved(page)

    await page
      .locator('[data-step-id="contact"]')
      .getByRole('button', { name: /^Delete “/ })
      .click()
    const dialog = page.getByTestId('delete-dialog')
    expect(await dialog.getByTestId('reference-summary').textContent()).toBe('2 buttons and 1 step go here:')
    expect(await dialog.getByTestId('references').locator('li').allTextContents()).toEqual([
      'Button “Billing”',
      'Button “Technical issue”',
      'Step “What do you need help with?” continues here',
    ])
    // The step after it is offered first.
    expect(await dialog.getByRole('combobox', { name: 'Send them to…' }).inputValue()).toBe(addedId)
    await dialog.getByRole('button', { name: 'Delete' }).click()

    await expect.poll(() => page.locator('[data-step-id="contact"]').count()).toBe(0)
    await allSaved(page)
    const scenario = await app.storedScenario(space, 'support')
    expect(scenario.stepOrder).toEqual(['topic', addedId])
    expect(scenario.steps.topic.next).toBe(addedId)
    const buttons = await storedButtons(space)
    expect(buttons.sup_billing.action).toEqual({ type: 'goto', scenarioId: 'support', stepId: addedId })
    expect(buttons.sup_tech.action).toEqual({ type: 'goto', scenarioId: 'support', stepId: addedId })
    expect(await page.getByTestId('problem-count').textContent()).toBe('No problems')
  })

  it('keeps a deleted step and a deleted button in the trash, and a second admin restores them for both', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    for (const admin of [ana, ben]) await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/support`)

    // Nothing leads to "topic" but the scenario's start: the dialog says so, and deleting moves the start.
    await ana.page
      .locator('[data-step-id="topic"]')
      .getByRole('button', { name: /^Delete “/ })
      .click()
    await ana.page.getByTestId('delete-dialog').getByLabel('Remove the links', { exact: false }).check()
    await ana.page.getByTestId('delete-dialog').getByRole('button', { name: 'Delete' }).click()
    const benTrash = ben.page.getByRole('region', { name: 'Deleted steps' })
    await benTrash.getByTestId('trash-item').filter({ hasText: 'What do you need help with?' }).filter({ hasText: 'deleted by Ana' }).waitFor()
    await allSaved(ana.page)
    expect((await app.storedScenario(space, 'support')).stepOrder).toEqual(['contact'])

    await benTrash.getByRole('button', { name: 'Restore What do you need help with?' }).click()
    await ana.page.locator('[data-step-id="topic"]').waitFor()
    await expect.poll(() => messageText(stepMessage(ana.page, 'topic'))).toBe('What do you need help with?')
    await allSaved(ben.page)
    const restored = await app.storedScenario(space, 'support')
    expect(restored.stepOrder).toEqual(['topic', 'contact'])
    expect(restored.steps.topic.keyboard.rows).toEqual([['sup_billing', 'sup_tech'], ['back']])
    expect(await ana.page.getByRole('region', { name: 'Deleted steps' }).count()).toBe(0)

    // A button shown in a step and in the main menu: the Buttons page lists both, links them, and deleting removes it from them.
    for (const admin of [ana, ben]) await admin.page.getByRole('link', { name: 'Buttons', exact: true }).click()
    const card = ana.page.locator('[data-testid="button-card"][data-button-id="website"]')
    await expect.poll(async () => (await card.getByTestId('used-in').textContent())?.trim()).toBe('Used in Onboarding › Nice to meet you, {name}! You…, Main menu')
    expect(await card.getByRole('link', { name: 'Main menu' }).getAttribute('href')).toBe(`#/${space}/settings`)
    expect(await card.getByRole('link', { name: /^Onboarding › / }).getAttribute('href')).toBe(`#/${space}/scenario/onboarding/list/finish`)
    await card.getByRole('button', { name: 'Delete button Website' }).click()
    const dialog = ana.page.getByTestId('delete-dialog')
    await expect.poll(() => dialog.getByTestId('reference-summary').textContent()).toBe('Shown in 1 step and the main menu:')
    await dialog.getByLabel('Remove it from them').check()
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await allSaved(ana.page)
    expect((await storedButtons(space)).website).toBeUndefined()
    expect(projectSettings(await stored(space, 'settings')).mainMenu).toEqual([['start'], ['support']])
    expect((await app.storedScenario(space, 'onboarding')).steps.finish.keyboard.rows).toEqual([['support']])

    const benButtons = ben.page.getByRole('region', { name: 'Deleted buttons' })
    await benButtons.getByRole('button', { name: 'Restore Website' }).click()
    await ana.page.locator('[data-testid="button-card"][data-button-id="website"]').waitFor()
    await allSaved(ben.page)
    expect((await storedButtons(space)).website).toEqual({ id: 'website', text: 'Website', action: { type: 'url', url: 'https://example.com' } })
  })

  it('undoes, after a page change, the edit made before it', async () => {
    const space = await app.seedSpace()
    const { page } = await app.admin('Ana', { space })
    await page.goto(`${app.baseUrl}/#/${space}/scenario/support`)
    const contact = stepMessage(page, 'contact')
    await contact.click()
    await page.keyboard.press('End')
    await page.keyboard.type(' Thanks!')
    await expect.poll(() => messageText(contact)).toBe('Write to support@example.com and we will answer within one business day. Thanks!')
    await allSaved(page)

    await page.getByRole('link', { name: 'Buttons', exact: true }).click()
    await page.locator('[data-testid="button-card"]').first().waitFor()
    await page.getByRole('link', { name: 'Scenarios', exact: true }).click()
    await page.locator('[data-scenario-id="support"]').getByRole('link', { name: 'Edit' }).click()
    await expect.poll(() => messageText(stepMessage(page, 'contact'))).toMatch(/Thanks!$/)

    const undo = page.getByRole('button', { name: 'Undo' })
    await expect.poll(() => undo.isEnabled()).toBe(true)
    await undo.click()
    await expect.poll(() => messageText(stepMessage(page, 'contact'))).toBe('Write to support@example.com and we will answer within one business day.')
    await allSaved(page)
    expect((await app.storedScenario(space, 'support')).steps.contact.message).toBe('Write to support@example.com and we will answer within one business day.')
  })
})

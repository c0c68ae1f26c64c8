// Named steps in Chromium: Ana names a step; Ben sees the name on its card
// and in the "Then go to" picker of another step (never the random id),
// PostgreSQL holds it, and when the space's real telegraf bot takes a user
// there, Activity says the step's name.
import { describe, expect, it } from 'vitest'
import { uniqueSpace } from '@botsync/testkit/server'
import { E2eApp, SpaceBot, useE2eAppWithBot } from './harness.ts'

const vic = { id: 9811, first_name: 'Vic' }

describe('named steps', () => {
  let app: E2eApp
  let bot: SpaceBot
  const space = uniqueSpace()

  useE2eAppWithBot(space, 'named_steps_e2e_bot', (started) => ({ app, bot } = started))

  it('a step is known by its name in pickers, on its card and in Activity, and by its first words until named', async () => {
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    for (const admin of [ana, ben]) await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    const benCard = ben.page.locator('[data-step-id="ask_name"]')
    const benPicker = ben.page.locator('#step-welcome-next')
    // Unnamed: its first words, nowhere its id.
    await expect.poll(() => benCard.locator('.step-title').textContent()).toBe('What should I call you?')
    expect(await benPicker.locator('option').allTextContents()).toEqual(['— End here (or wait for a button) —', 'What should I call you?', 'Nice to meet you, {name}! You…'])
    expect(await ben.page.locator('main').textContent()).not.toContain('ask_name')

    await ana.page.locator('#step-ask_name-name').fill('Ask the name')
    await expect.poll(() => benCard.locator('.step-title').textContent()).toBe('Ask the name')
    await expect.poll(() => benPicker.locator('option').nth(1).textContent()).toBe('Ask the name')
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.ask_name.title).toBe('Ask the name')

    // The bot takes Vic from the welcome step to the named one; Activity names both steps.
    const welcome = await bot.start(vic, 'onboarding')
    const since = bot.fake.mark()
    bot.fake.clickButtonByText(vic, welcome, "Let's go")
    await bot.fake.nextMessageTo(vic.id, { since, timeoutMs: 15_000 })
    await ben.page.goto(`${app.baseUrl}/#/${space}/activity`)
    const events = ben.page.getByTestId('event-list')
    await expect.poll(() => events.textContent()).toContain('A user reached “Ask the name” in “Onboarding”')
    expect(await events.textContent()).toContain("A user reached “Hi! Let's get you set up…” in “Onboarding”")
  })
})

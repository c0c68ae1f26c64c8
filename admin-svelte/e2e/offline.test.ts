import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { DATABASE_URL } from '@botsync/testkit/server'
import { E2eApp, messageText, stepMessage, useE2eApp } from './harness.ts'

describe('offline editing and the saved indicator', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  it('keeps an offline edit across a reload and merges it with the other admin’s edit on reconnect', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    for (const admin of [ana, ben]) {
      await admin.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
      await expect.poll(() => messageText(stepMessage(admin.page, 'welcome'))).toContain("Let's get you set up")
      await expect.poll(() => admin.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    }

    await ana.cutWebSocket()
    await expect.poll(() => ana.page.getByTestId('connection-status').textContent()).toBe('Reconnecting…')

    // Both edit while Ana is cut off.
    await stepMessage(ana.page, 'welcome').fill('Welcome aboard! (written on a train)')
    await expect.poll(() => ana.page.getByTestId('save-status').textContent()).toBe('Not saved yet, kept on this device')
    await stepMessage(ben.page, 'ask_name').fill('How should we call you?')
    await expect.poll(() => ben.page.getByTestId('save-status').textContent()).toBe('All changes saved')

    // Reload while still offline: the edit comes back from IndexedDB, still unsaved.
    await ana.page.reload()
    await expect.poll(() => messageText(stepMessage(ana.page, 'welcome'))).toBe('Welcome aboard! (written on a train)')
    expect(await messageText(stepMessage(ana.page, 'ask_name'))).toBe('What should I call you?')
    await expect.poll(() => ana.page.getByTestId('save-status').textContent()).toBe('Not saved yet, kept on this device')
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).not.toContain('train')

    // The network returns: the browser's `online` event reconnects at once.
    ana.restoreWebSocket()
    await ana.page.evaluate(() => window.dispatchEvent(new Event('online')))
    await expect.poll(() => ana.page.getByTestId('save-status').textContent(), { timeout: 10_000 }).toBe('All changes saved')

    for (const admin of [ana, ben]) {
      await expect.poll(() => messageText(stepMessage(admin.page, 'welcome'))).toBe('Welcome aboard! (written on a train)')
      await expect.poll(() => messageText(stepMessage(admin.page, 'ask_name'))).toBe('How should we call you?')
    }
    const stored = await app.storedScenario(space, 'onboarding')
    expect(stored.steps.welcome.message).toBe('Welcome aboard! (written on a train)')
    expect(stored.steps.ask_name.message).toBe('How should we call you?')
  })

  it('shows unsaved changes while the database withholds the commit, and "All changes saved" after', async () => {
    const space = await app.seedSpace()
    const ana = await app.admin('Ana', { space })
    await ana.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => messageText(stepMessage(ana.page, 'finish'))).toContain('Nice to meet you')
    const status = ana.page.getByTestId('save-status')
    await expect.poll(() => status.textContent()).toBe('All changes saved')

    // Pause the database for writes: inserts into the update log wait for this lock.
    const blocker = new pg.Client({ connectionString: DATABASE_URL })
    await blocker.connect()
    try {
      await blocker.query('BEGIN')
      await blocker.query('LOCK TABLE document_updates IN ACCESS EXCLUSIVE MODE')
      await stepMessage(ana.page, 'finish').fill('Saved only when PostgreSQL says so.')
      await expect.poll(() => status.textContent()).toBe('Saving…')
      // It stays unsaved for as long as the commit cannot happen.
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect(await status.textContent()).toBe('Saving…')
      expect(await ana.page.getByTestId('connection-status').textContent()).toBe('Connected')
    } finally {
      await blocker.query('ROLLBACK').catch(() => {})
      await blocker.end()
    }
    await expect.poll(() => status.textContent()).toBe('All changes saved')
    expect((await app.storedScenario(space, 'onboarding')).steps.finish.message).toBe('Saved only when PostgreSQL says so.')
  })
})

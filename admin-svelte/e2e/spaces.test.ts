import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { uniqueSpace } from '@botsync/testkit/server'
import { E2eApp, messageText, screenshotPath, stepMessage, useE2eApp } from './harness.ts'

describe('spaces', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  it('an owner creates a space (checked id), switches to it from the header, deletes one by typing its id, sees it read-only during the grace, and restores it', async () => {
    const space = uniqueSpace()
    await app.server.spaces.ensure(space, 'Coffee shop')
    await app.seedSpace(space)
    const olga = await app.admin('Olga', { role: 'owner', space })
    const { page } = olga

    await page.goto(`${app.baseUrl}/#/spaces`)
    await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor()
    const id = page.getByLabel('Space id')
    const name = page.getByLabel('Display name')
    const create = page.getByRole('button', { name: 'Create space' })
    const error = page.locator('#new-space-error')

    // An id that cannot be one, then one that is taken: both explained next to the field, nothing created.
    await id.fill('tea room!')
    await name.fill('Tea room')
    await create.click()
    await expect.poll(() => error.textContent()).toBe('A space id is 1–63 characters: lowercase letters, digits, _ and -, starting with a letter or digit.')
    expect(await id.getAttribute('aria-invalid')).toBe('true')
    await id.fill(space)
    await create.click()
    await expect.poll(() => error.textContent()).toContain('already exists')
    expect((await app.server.spaces.get(space))?.name).toBe('Coffee shop')

    const newId = `tea-${randomUUID().slice(0, 8)}`
    await id.fill(newId)
    await create.click()
    await page.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    expect(new URL(page.url()).hash).toBe(`#/${newId}/scenarios`)
    await expect.poll(() => page.getByRole('button', { name: /^Space:/ }).textContent()).toContain('Tea room')
    await expect.poll(() => page.getByTestId('my-role').textContent()).toBe('Owner')
    expect(await app.server.members.roleOf(newId, olga.userId)).toBe('owner')

    // The header's switcher lists both; choosing one opens it.
    await page.getByRole('button', { name: /^Space:/ }).click()
    const menu = page.getByRole('menu', { name: 'Spaces' })
    await expect.poll(() => menu.getByRole('menuitemradio').count()).toBe(2)
    expect(await menu.getByRole('menuitemradio', { name: /Tea room/ }).getAttribute('aria-checked')).toBe('true')
    await menu.getByRole('menuitemradio', { name: /Coffee shop/ }).click()
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/${space}/scenarios`)
    await expect.poll(() => page.getByRole('button', { name: /^Space:/ }).textContent()).toContain('Coffee shop')
    await page.getByRole('button', { name: /^Space:/ }).click()
    await page.getByRole('menuitem', { name: 'New space…' }).click()
    await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor()
    await expect.poll(() => page.locator('tr[data-space]').count()).toBe(2)
    await page.screenshot({ path: screenshotPath('spaces'), fullPage: true })

    // Deleting asks for the id.
    await page.getByRole('button', { name: 'Delete Coffee shop…' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByRole('heading', { name: 'Delete Coffee shop?' }).waitFor()
    const confirmDelete = dialog.getByRole('button', { name: 'Delete space' })
    expect(await confirmDelete.isDisabled()).toBe(true)
    await dialog.getByLabel(`Type ${space} to confirm`).fill('coffee shop')
    expect(await confirmDelete.isDisabled()).toBe(true)
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    expect((await app.server.spaces.get(space))?.deletingAt).toBeNull()
    await page.getByRole('button', { name: 'Delete Coffee shop…' }).click()
    await dialog.getByLabel(`Type ${space} to confirm`).fill(space)
    await confirmDelete.click()
    await page.getByRole('button', { name: 'Restore Coffee shop' }).waitFor()
    expect((await app.server.spaces.get(space))?.deletingAt).toBeGreaterThan(Date.now())

    // During the grace: the banner, and the documents read-only (the server refuses writes too).
    const before = await app.storedScenario(space, 'onboarding')
    await page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    const field = stepMessage(page, 'welcome')
    await expect.poll(() => messageText(field)).toBe(before.steps.welcome.message)
    await expect.poll(() => page.getByTestId('space-deleting').textContent()).toContain('This space is scheduled for deletion')
    await expect.poll(() => field.isEditable()).toBe(false)
    await field.click({ force: true })
    await page.keyboard.type('written while deleting')
    await page.waitForTimeout(500)
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe(before.steps.welcome.message)

    // Restore: writable again, without a reload.
    await page.getByTestId('space-deleting').getByRole('button', { name: 'Restore space' }).click()
    await expect.poll(() => page.getByTestId('space-deleting').count()).toBe(0)
    await expect.poll(() => field.isEditable()).toBe(true)
    expect((await app.server.spaces.get(space))?.deletingAt).toBeNull()
    await field.fill('Written after the restore')
    await expect.poll(() => page.getByTestId('save-status').textContent(), { timeout: 10_000 }).toBe('All changes saved')
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe('Written after the restore')
  })

  it('a member of space A cannot open any page of space B, and a space that does not exist says so', async () => {
    const a = await app.seedSpace()
    const b = await app.seedSpace()
    const ana = await app.admin('Ana', { space: a })
    const { page } = ana
    const refused = page.getByTestId('space-refused')

    for (const path of ['scenarios', 'scenario/onboarding', 'buttons', 'settings']) {
      await page.goto(`${app.baseUrl}/#/${b}/${path}`)
      await expect.poll(() => refused.getAttribute('data-reason'), { message: path }).toBe('forbidden-space')
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('You are not a member of this space')
      // Nothing of B reached the page.
      expect(await stepMessage(page, 'welcome').count()).toBe(0)
    }
    // The server kept no connection of hers to B's documents.
    for (const [name, document] of app.server.server.hocuspocus.documents) {
      if (name.startsWith(`${b}/`)) expect(document.getConnectionsCount(), name).toBe(0)
    }

    const missing = uniqueSpace()
    await page.goto(`${app.baseUrl}/#/${missing}/scenarios`)
    await expect.poll(() => refused.getAttribute('data-reason')).toBe('unknown-space')
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('This space does not exist')

    // Her own space still opens, from the refusal page's link.
    await page.getByRole('link', { name: 'Go to your spaces' }).click()
    await page.getByRole('heading', { name: 'Spaces', level: 1 }).waitFor()
    await page.locator(`tr[data-space="${a}"]`).getByRole('link').click()
    await page.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    expect(await refused.count()).toBe(0)
  })
})

import { randomUUID } from 'node:crypto'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { BotsyncServer } from '@botsync/server'
import { uniqueSpace } from '@botsync/testkit/server'
import { E2eApp, messageText, screenshotPath, stepMessage, type Admin, useE2eApp } from './harness.ts'

/** A seeded space with a display name (the invite page and the header show it). */
async function namedSpace(app: E2eApp, name: string): Promise<string> {
  const space = uniqueSpace()
  await app.server.spaces.ensure(space, name)
  return app.seedSpace(space)
}

async function openMembers(owner: Admin): Promise<void> {
  await owner.page.getByRole('link', { name: 'Members' }).click()
  await owner.page.getByRole('heading', { name: 'Members', level: 1 }).waitFor()
}

/** The admin connections of `userId` open on `server` (every document, every socket). */
function connectionsOf(server: BotsyncServer, userId: string): number {
  let count = 0
  for (const document of server.server.hocuspocus.documents.values()) {
    for (const connection of document.getConnections()) {
      const principal = connection.context?.principal
      if (principal?.kind === 'admin' && String(principal.userId) === String(userId)) count++
    }
  }
  return count
}

const roleOf = (page: Page) => page.getByTestId('my-role').textContent()

describe('a team: invites, roles, removal', () => {
  let app: E2eApp
  // Two instances on one PostgreSQL and one Redis (a prefix of this file's own), as behind a load balancer.
  useE2eApp((started) => (app = started), { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `e2e-team-${randomUUID().slice(0, 8)}` }, { instances: 2 })

  it('the owner invites Ben as an editor; Ben joins from the link in another browser and both co-edit with presence', async () => {
    const space = await namedSpace(app, 'Coffee shop')
    const olga = await app.admin('Olga', { role: 'owner', space })
    await olga.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.baseUrl })
    await openMembers(olga)

    const email = `ben-${randomUUID().slice(0, 8)}@test.local`
    await olga.page.getByLabel('Email', { exact: true }).fill(email)
    // The invite form's "Role" (not a member's "Role of …").
    await olga.page.getByRole('combobox', { name: /^Role(?! of )/ }).selectOption('editor')
    await olga.page.getByRole('button', { name: 'Create invite link' }).click()
    const linkField = olga.page.getByLabel(`Invite link for ${email}`)
    await linkField.waitFor()
    // Copied with the page's button, read back from the clipboard: what the owner hands on.
    await olga.page.getByRole('button', { name: 'Copy link' }).click()
    await expect.poll(() => olga.page.getByText('Copied', { exact: true }).count()).toBe(1)
    const link = await olga.page.evaluate(() => navigator.clipboard.readText())
    expect(link).toBe(await linkField.inputValue())
    expect(link).toMatch(new RegExp(`^${app.baseUrl}/#/invite/[A-Za-z0-9_-]{20,}$`))
    // The pending invite is listed, with its role.
    const invite = olga.page.getByTestId('invite-row').filter({ hasText: email })
    await expect.poll(() => invite.textContent()).toContain('Editor')
    await olga.page.screenshot({ path: screenshotPath('members'), fullPage: true })

    // Ben: another browser, logged out.
    const benContext = await app.newContext({ name: 'Ben', viewport: { width: 1280, height: 800 } })
    const ben = await benContext.newPage()
    ben.on('pageerror', (error) => app.pageErrors.push(`[Ben] ${error.stack ?? error.message}`))
    await ben.goto(link)
    await ben.getByRole('heading', { name: 'Join Coffee shop', level: 1 }).waitFor()
    expect(await ben.getByLabel('Email').inputValue()).toBe(email)
    await ben.getByLabel('Your name').fill('Ben')
    await ben.getByLabel('Password', { exact: true }).fill('ben-password-1')
    await ben.getByLabel('Confirm password').fill('ben-password-1')
    await ben.screenshot({ path: screenshotPath('invite') })
    await ben.getByRole('button', { name: 'Create account and join' }).click()
    await ben.getByRole('heading', { name: 'Scenarios', level: 1 }).waitFor()
    expect(new URL(ben.url()).hash).toBe(`#/${space}/scenarios`)
    await expect.poll(() => roleOf(ben)).toBe('Editor')
    // The owner's list shows him as a member, and the invite is used up.
    await olga.page.reload()
    await expect.poll(() => olga.page.getByTestId('member-row').filter({ hasText: email }).count()).toBe(1)
    expect(await olga.page.getByTestId('invite-row').filter({ hasText: email }).count()).toBe(0)
    // The link works once.
    const other = await (await app.newContext({ name: 'link-reuser' })).newPage()
    await other.goto(link)
    await other.getByRole('heading', { name: 'This link was already used', level: 1 }).waitFor()

    // Co-editing the same scenario: each sees the other and the other's text.
    for (const page of [olga.page, ben]) await page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    await expect.poll(() => olga.page.getByTestId('presence').getByTitle('Ben').count()).toBe(1)
    await expect.poll(() => ben.getByTestId('presence').getByTitle('Olga').count()).toBe(1)
    await stepMessage(ben, 'ask_name').click()
    await expect.poll(() => olga.page.locator('[data-step-id="ask_name"]').getByTestId('editing-badge').textContent()).toBe('Ben is editing “What should I call you?”')
    await stepMessage(ben, 'ask_name').press('End')
    await stepMessage(ben, 'ask_name').pressSequentially(' (Ben)')
    await stepMessage(olga.page, 'finish').click()
    await stepMessage(olga.page, 'finish').press('End')
    await stepMessage(olga.page, 'finish').pressSequentially(' (Olga)')
    await expect.poll(() => messageText(stepMessage(olga.page, 'ask_name'))).toBe('What should I call you? (Ben)')
    await expect.poll(() => messageText(stepMessage(ben, 'finish'))).toMatch(/ \(Olga\)$/)
    await expect.poll(() => ben.getByTestId('save-status').textContent()).toBe('All changes saved')
    await expect.poll(() => olga.page.getByTestId('save-status').textContent()).toBe('All changes saved')
    const stored = await app.storedScenario(space, 'onboarding')
    expect(stored.steps.ask_name.message).toBe('What should I call you? (Ben)')
    expect(stored.steps.finish.message).toMatch(/ \(Olga\)$/)
  })

  it('making Ben a viewer while he types: refused within 1 s, the banner says so, the field locks, and his unsent edits stay on his device', async () => {
    const space = await namedSpace(app, 'Coffee shop')
    const olga = await app.admin('Olga', { role: 'owner', space })
    // A slow uplink (250 ms): some of Ben's keystrokes are still on their way when his role changes.
    const ben = await app.admin('Ben', { role: 'editor', space, uplinkDelayMs: 250 })
    await openMembers(olga)
    const field = stepMessage(ben.page, 'welcome')
    await ben.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    const original = "Hi! Let's get you set up. It takes less than a minute."
    // Over the slow uplink every document's sync waits 250 ms per message, the header's too (bot, publish status): more than poll's default second.
    await expect.poll(() => messageText(field), { timeout: 10_000 }).toBe(original)
    await field.click()
    await field.press('End')

    const typed = ' Ben keeps typing while an owner changes his role.'
    const typing = field.pressSequentially(typed, { delay: 60 }).catch(() => {})
    // His first words reach PostgreSQL: he is an editor.
    await expect.poll(async () => (await app.storedScenario(space, 'onboarding')).steps.welcome.message, { timeout: 5_000 }).toMatch(/ Ben keeps/)

    const clicked = Date.now()
    const within = (ms: number) => Math.max(1, clicked + ms - Date.now())
    await olga.page.getByLabel('Role of Ben').selectOption('viewer')
    await ben.page.getByTestId('read-only-now').waitFor({ timeout: within(1_000) })
    await expect.poll(() => field.isEditable(), { timeout: within(1_000) }).toBe(false)
    expect(Date.now() - clicked).toBeLessThan(1_000)
    // From 1 s after the click on, nothing Ben sends is stored.
    await new Promise((resolve) => setTimeout(resolve, within(1_000)))
    const storedAtOneSecond = (await app.storedScenario(space, 'onboarding')).steps.welcome.message
    await typing
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const storedAfter = (await app.storedScenario(space, 'onboarding')).steps.welcome.message
    expect(storedAfter).toBe(storedAtOneSecond)

    const banner = ben.page.getByTestId('read-only-now')
    expect(await banner.getAttribute('role')).toBe('alert')
    expect(await banner.textContent()).toContain('You are a viewer in this space now.')
    await expect.poll(() => roleOf(ben.page)).toBe('Viewer')
    expect(await ben.page.getByTestId('read-only-badge').textContent()).toBe('Read-only')

    // What the server refused is still in Ben's page and counted as not sent, with the banner's explanation.
    const local = await messageText(field)
    expect(local.startsWith(storedAfter)).toBe(true)
    expect(local.length).toBeGreaterThan(storedAfter.length)
    expect(original + typed).toContain(local)
    const unsent = ben.page.getByTestId('unsent-changes')
    const unsentText = async () => (await unsent.textContent())?.replace(/\s+/g, ' ').trim()
    await expect.poll(unsentText).toBe('Your latest changes were not saved. They are kept on this device and not sent while you are a viewer.')
    const count = Number(await unsent.getAttribute('data-unsaved'))
    expect(count).toBeGreaterThan(0)
    // (The keystrokes after the lock went to the page and scrolled it: back to the banner for the picture.)
    await ben.page.evaluate(() => window.scrollTo(0, 0))
    await ben.page.screenshot({ path: screenshotPath('viewer-now') })

    // Kept on this device: a reload (from IndexedDB) still has them, still unsent, still explained.
    await ben.page.reload()
    await expect.poll(() => messageText(field)).toBe(local)
    await expect.poll(() => ben.page.getByTestId('read-only-badge').count()).toBe(1)
    expect(await field.isEditable()).toBe(false)
    expect((await app.storedScenario(space, 'onboarding')).steps.welcome.message).toBe(storedAfter)
  })

  it('removing Ben closes his sockets on both instances: both pages show the removal and neither instance keeps a connection of his', async () => {
    const space = await namedSpace(app, 'Coffee shop')
    const olga = await app.admin('Olga', { role: 'owner', space })
    const ben = await app.admin('Ben', { role: 'editor', space })
    const [a, b] = app.servers
    await ben.page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding`)
    // His second page is on the other instance (the same browser: logged in from the refresh cookie).
    const onB = await ben.context.newPage()
    onB.on('pageerror', (error) => app.pageErrors.push(`[Ben on B] ${error.stack ?? error.message}`))
    await onB.goto(`${app.urlOf(1)}/#/${space}/buttons`)
    await onB.getByRole('heading', { name: 'Buttons', level: 1 }).waitFor()
    for (const page of [ben.page, onB]) await expect.poll(() => page.getByTestId('save-status').textContent()).toBe('All changes saved')
    await expect.poll(() => connectionsOf(a, ben.userId)).toBeGreaterThan(0)
    await expect.poll(() => connectionsOf(b, ben.userId)).toBeGreaterThan(0)

    await openMembers(olga)
    await olga.page.getByRole('button', { name: 'Remove Ben' }).click()
    await olga.page.getByRole('heading', { name: 'Remove Ben?' }).waitFor()
    await olga.page.getByRole('button', { name: 'Remove member' }).click()
    await expect.poll(() => olga.page.getByTestId('member-row').filter({ hasText: ben.email }).count()).toBe(0)

    for (const page of [ben.page, onB]) {
      const refused = page.getByTestId('space-refused')
      await refused.waitFor({ timeout: 5_000 })
      expect(await refused.getAttribute('data-reason')).toBe('removed')
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('You were removed from this space')
      await page.getByRole('link', { name: 'Go to your spaces' }).waitFor()
    }
    expect(connectionsOf(a, ben.userId)).toBe(0)
    expect(connectionsOf(b, ben.userId)).toBe(0)
    // And it stays so (no reconnection gets back in).
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect([connectionsOf(a, ben.userId), connectionsOf(b, ben.userId)]).toEqual([0, 0])
  })
})

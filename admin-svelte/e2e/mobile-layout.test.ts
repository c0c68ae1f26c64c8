// The admin on a phone (390×844, an iPhone 12–15): the sticky header stays
// compact, and each scenario row keeps its controls on one line.
import { describe, expect, it } from 'vitest'
import { E2eApp, screenshotPath, useE2eApp } from './harness.ts'

const PHONE = { width: 390, height: 844 }

describe('the admin at 390 px', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  it('has a compact header and scenario rows whose controls share one line', async () => {
    const space = await app.seedSpace()
    const { page } = await app.admin('Ana', { space, viewport: PHONE })
    await page.goto(`${app.baseUrl}/#/${space}/scenarios`)
    const rows = page.getByTestId('scenario-row')
    await rows.first().waitFor()
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="scenario-row"]').length >= 2)

    const header = await page.locator('header.topbar').boundingBox()
    expect(header!.height / PHONE.height, `the header is ${header!.height}px of ${PHONE.height}px`).toBeLessThanOrEqual(0.085)
    // Still sticky: scrolled down, it stays at the top.
    await page.evaluate(() => window.scrollTo(0, 400))
    expect((await page.locator('header.topbar').boundingBox())!.y).toBe(0)
    await page.evaluate(() => window.scrollTo(0, 0))

    for (const row of await rows.all()) {
      const controls = row.locator('.scenario-tools').locator('label.switch, a.button, button')
      const boxes = (await Promise.all((await controls.all()).map((control) => control.boundingBox()))).filter((box) => box !== null)
      expect(boxes.length).toBeGreaterThanOrEqual(5)
      const top = Math.min(...boxes.map((box) => box.y))
      const bottom = Math.max(...boxes.map((box) => box.y + box.height))
      // One line: every control overlaps the same band, no higher than the tallest control.
      const tallest = Math.max(...boxes.map((box) => box.height))
      expect(bottom - top, `controls of ${await row.getAttribute('data-scenario-id')} wrap`).toBeLessThanOrEqual(tallest + 1)
      const rowBox = (await row.boundingBox())!
      for (const box of boxes) expect(box.x + box.width).toBeLessThanOrEqual(rowBox.x + rowBox.width)
    }
    await page.screenshot({ path: screenshotPath('scenarios-390'), fullPage: true })

    // The pages, the publish control, the bot and the account are one tap away.
    const nav = page.getByRole('navigation', { name: 'Main' })
    expect(await nav.isVisible()).toBe(false)
    await page.getByRole('button', { name: 'Menu' }).click()
    await nav.getByRole('link', { name: 'Buttons' }).click()
    await page.getByRole('heading', { name: 'Buttons', level: 1 }).waitFor()
    // Following a link closes the menu again.
    expect(await nav.isVisible()).toBe(false)
    await page.getByRole('button', { name: 'Menu' }).click()
    expect(await page.getByRole('button', { name: 'Log out', exact: true }).isVisible()).toBe(true)
  })

  it('shows the step editor without sideways scrolling, with the step named and its preview under it', async () => {
    const space = await app.seedSpace()
    const { page } = await app.admin('Ana', { space, viewport: PHONE })
    await page.goto(`${app.baseUrl}/#/${space}/scenario/onboarding/list`)
    const card = page.locator('[data-step-id="welcome"]')
    await card.getByTestId('step-preview').waitFor()
    expect(await card.locator('.step-title').textContent()).toBe("Hi! Let's get you set up…")
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    expect(overflow, 'sideways scrolling').toBeLessThanOrEqual(0)
    const cardBox = (await card.boundingBox())!
    const preview = (await card.getByTestId('step-preview').boundingBox())!
    expect(preview.x + preview.width).toBeLessThanOrEqual(cardBox.x + cardBox.width)
    await card.scrollIntoViewIfNeeded()
    await page.screenshot({ path: screenshotPath('scenario-editor-390') })
  })

  it('says what the switches turn on, and shows that a scenario title can be renamed in place', async () => {
    const space = await app.seedSpace()
    const { page } = await app.admin('Ana', { space })
    await page.goto(`${app.baseUrl}/#/${space}/scenarios`)
    const row = page.locator('[data-testid="scenario-row"][data-scenario-id="support"]')
    await row.waitFor()
    const publicSwitch = row.getByRole('switch', { name: 'Support public in the Mini App' })
    // The same words whether on or off; the switch shows the state.
    for (const on of [false, true]) {
      expect(await publicSwitch.isChecked()).toBe(on)
      expect((await row.locator('label.switch', { has: page.getByRole('switch', { name: 'Support public in the Mini App' }) }).innerText()).replace(/\s+/g, ' ').trim()).toBe(
        'Public in the Mini App',
      )
      if (!on) await publicSwitch.check()
    }
    expect(await publicSwitch.evaluate((input) => getComputedStyle(input).appearance)).toBe('none')
    const title = row.getByLabel('Title of Support')
    const look = () => title.evaluate((input) => ({ border: getComputedStyle(input).borderBottomStyle, pencil: getComputedStyle(input).backgroundImage.startsWith('url(') }))
    expect(await look()).toEqual({ border: 'dashed', pencil: true })
    await title.focus()
    expect((await look()).border).toBe('solid')
  })
})

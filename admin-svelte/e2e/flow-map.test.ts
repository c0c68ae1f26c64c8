// The flow map, in Chromium against the real server: a link drawn from a
// button to a step is what the space's real telegraf bot then follows (fake
// Bot API); two admins drag nodes, link steps and edit a step on the map at
// once and end with the same map, the one PostgreSQL holds; a viewer sees the
// map and changes nothing, on a phone too.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { getFlowPositions, projectButtons, type FlowPosition } from '@botsync/shared-docs'
import { FakeTelegram } from '@botsync/testkit/fake-bot-api'
import { uniqueSpace } from '@botsync/testkit/server'
import type { Page } from 'playwright-core'
import * as Y from 'yjs'
import { E2eApp, messageText, screenshotPath, SpaceBot, stepMessage, type Admin } from './harness.ts'

const telegram = new FakeTelegram()
const tom = { id: 9801, first_name: 'Tom' }
const STEPS = ['welcome', 'ask_name', 'finish']

const node = (page: Page, id: string) => page.locator(`.svelte-flow__node[data-id="${id}"]`)

/** Where Svelte Flow draws a node: the flow coordinates of its transform. */
async function drawnPosition(page: Page, id: string): Promise<FlowPosition> {
  const transform = await node(page, id).evaluate((element) => (element as HTMLElement).style.transform)
  const match = /translate\((-?[\d.]+)px, (-?[\d.]+)px\)/.exec(transform)
  if (!match) throw new Error(`node ${id} has no position: ${transform}`)
  return { x: Number(match[1]), y: Number(match[2]) }
}

async function drawnPositions(page: Page): Promise<Record<string, FlowPosition>> {
  const result: Record<string, FlowPosition> = {}
  for (const id of STEPS) result[id] = await drawnPosition(page, id)
  return result
}

async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(selector).boundingBox()
  if (!box) throw new Error(`${selector} is not drawn`)
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 }
}

/** A real pointer drag, in small moves, as a hand would. */
async function dragPointer(page: Page, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await page.mouse.move(from.x, from.y)
  await page.mouse.down()
  await page.mouse.move(to.x, to.y, { steps: 12 })
  await page.mouse.up()
}

/** Drags a step's node by its title by (dx, dy) screen pixels. */
async function dragNode(page: Page, id: string, dx: number, dy: number): Promise<void> {
  const from = await centre(page, `.svelte-flow__node[data-id="${id}"] [data-testid="flow-step-title"]`)
  await dragPointer(page, from, { x: from.x + dx, y: from.y + dy })
}

/** Draws a link from a handle of `source` (a button's place, or "next") to the step `target`. */
async function drawLink(page: Page, source: string, handle: string, target: string): Promise<void> {
  const from = await centre(page, `.svelte-flow__node[data-id="${source}"] .svelte-flow__handle[data-handleid="${handle}"]`)
  const to = await centre(page, `.svelte-flow__node[data-id="${target}"] .svelte-flow__handle.target`)
  await dragPointer(page, from, to)
}

async function openMap(admin: Admin, baseUrl: string, space: string): Promise<void> {
  await admin.page.goto(`${baseUrl}/#/${space}/scenario/onboarding/map`)
  for (const id of STEPS) await expect.poll(() => node(admin.page, id).evaluate((element) => getComputedStyle(element).visibility)).toBe('visible')
}

async function allSaved(...admins: Admin[]): Promise<void> {
  for (const admin of admins) await expect.poll(() => admin.page.getByTestId('save-status').textContent()).toBe('All changes saved')
}

describe('the flow map', () => {
  let app: E2eApp
  let bot: SpaceBot

  beforeAll(async () => {
    await telegram.start()
    app = await E2eApp.start({ TELEGRAM_API_ROOT: telegram.apiRoot })
  })
  afterEach(() => app.assertNoPageErrors())
  afterAll(async () => {
    await app?.close()
    await telegram.stop()
  })

  async function stored(space: string, name: string): Promise<Y.Doc> {
    const { state } = await app.server.store.load(`${space}/${name}`)
    const doc = new Y.Doc()
    if (state) Y.applyUpdate(doc, state)
    return doc
  }

  /** What the bot answers when Tom presses `button` under the onboarding's first message. */
  async function afterPressing(button: string): Promise<string> {
    const welcome = await bot.start(tom, 'onboarding')
    expect(welcome.message?.text).toBe("Hi! Let's get you set up. It takes less than a minute.")
    const since = bot.fake.mark()
    bot.fake.clickButtonByText(tom, welcome, button)
    return (await bot.fake.nextMessageTo(tom.id, { since, timeoutMs: 15_000 })).message?.text ?? ''
  }

  it("a link drawn from a button to a step is what the bot follows, and removing it puts the button's old way back", async () => {
    const space = await app.seedSpace(uniqueSpace())
    bot = await SpaceBot.start(app, telegram, space, 'flow_map_bot')
    // "Maybe later" ends the conversation: the bot shows the main menu.
    expect(await afterPressing('Maybe later')).toMatch(/^Welcome to the botsync demo bot!/)

    const ana = await app.admin('Ana', { space })
    await openMap(ana, app.baseUrl, space)
    const link = ana.page.locator('.svelte-flow__edge[data-id="welcome/button-1-0"]')
    await expect.poll(() => link.count()).toBe(0)
    // The seeded links are drawn: "Let's go" → ask_name, ask_name's next → finish, "Support" → the Support scenario.
    await expect.poll(() => ana.page.locator('.svelte-flow__edge').count()).toBe(3)
    await expect.poll(() => ana.page.locator('[data-testid="flow-stub"]').textContent()).toContain('Support')

    await drawLink(ana.page, 'welcome', 'button-1-0', 'finish')
    await expect.poll(() => link.count()).toBe(1)
    await allSaved(ana)
    expect(projectButtons(await stored(space, 'buttons')).ob_later.action).toEqual({ type: 'goto', scenarioId: 'onboarding', stepId: 'finish' })
    expect(await afterPressing('Maybe later')).toMatch(/^Nice to meet you/)

    // Select the link and press Delete: the button ends the conversation again.
    // A point of the link just after it leaves the button (further on it may pass under another step).
    const near = await link.locator('.svelte-flow__edge-path').evaluate((path) => {
      const svg = path as SVGPathElement
      const point = svg.getPointAtLength(Math.min(24, svg.getTotalLength() / 4))
      const screen = point.matrixTransform(svg.getScreenCTM()!)
      return { x: screen.x, y: screen.y }
    })
    await ana.page.mouse.click(near.x, near.y)
    await expect.poll(() => link.getAttribute('class')).toContain('selected')
    await ana.page.keyboard.press('Delete')
    await expect.poll(() => link.count()).toBe(0)
    await allSaved(ana)
    expect(projectButtons(await stored(space, 'buttons')).ob_later.action).toEqual({ type: 'end' })
    expect(await afterPressing('Maybe later')).toMatch(/^Welcome to the botsync demo bot!/)
  })

  it('two admins drag nodes, link steps and edit a step on the map at once, and end with the map PostgreSQL holds', async () => {
    const space = await app.seedSpace(uniqueSpace())
    const ana = await app.admin('Ana', { space })
    const ben = await app.admin('Ben', { space })
    await openMap(ana, app.baseUrl, space)
    await openMap(ben, app.baseUrl, space)
    const before = await drawnPositions(ana.page)
    expect(await drawnPositions(ben.page)).toEqual(before)

    // At once: Ana drags the first step down, Ben the last one up.
    await Promise.all([dragNode(ana.page, 'welcome', 0, 140), dragNode(ben.page, 'finish', -60, -120)])
    // Every node in view again for Ben (the drags may have moved some out), then at once: Ana drags the middle step, Ben links it back to the start ("Next step" → welcome).
    await ben.page.locator('.svelte-flow__controls-fitview').click()
    await Promise.all([dragNode(ana.page, 'ask_name', -40, 140), drawLink(ben.page, 'finish', 'next', 'welcome')])
    await allSaved(ana, ben)

    const content = await stored(space, 'scenario/onboarding')
    const positions = getFlowPositions(content, STEPS)
    expect(Object.keys(positions).sort()).toEqual([...STEPS].sort())
    expect(positions.welcome.y).toBeGreaterThan(before.welcome.y + 60)
    expect(positions.finish.y).toBeLessThan(before.finish.y - 60)
    expect(positions.ask_name.y).toBeGreaterThan(before.ask_name.y + 60)
    for (const admin of [ana, ben]) {
      await expect.poll(() => drawnPositions(admin.page)).toEqual(positions)
      await expect.poll(() => admin.page.locator('.svelte-flow__edge[data-id="finish/next"]').count()).toBe(1)
    }
    expect(content.getMap('scenario').get('steps')).toBeInstanceOf(Y.Map)
    expect((content.getMap('scenario').get('steps') as Y.Map<Y.Map<unknown>>).get('finish')?.get('next')).toBe('welcome')

    // Ben opens the middle step beside his map: Ana sees him on that node.
    await node(ben.page, 'ask_name').getByTestId('flow-step-title').click()
    const panel = ben.page.getByTestId('flow-panel')
    await expect.poll(() => panel.isVisible()).toBe(true)
    await expect.poll(() => node(ana.page, 'ask_name').locator('[data-testid="flow-step-editors"] [data-name="Ben"]').count()).toBe(1)
    // He empties its message: both maps count the problem on the node; then he writes a new one, which both show.
    const field = stepMessage(ben.page, 'ask_name')
    await field.click()
    await ben.page.keyboard.press('Control+a')
    await ben.page.keyboard.press('Delete')
    await expect.poll(() => messageText(field)).toBe('')
    for (const admin of [ana, ben]) await expect.poll(() => node(admin.page, 'ask_name').getByTestId('flow-step-problems').textContent()).toContain('1')
    await field.pressSequentially('Your name, please?')
    for (const admin of [ana, ben]) {
      await expect.poll(() => node(admin.page, 'ask_name').getByTestId('flow-step-title').textContent()).toBe('Your name, please?')
      await expect.poll(() => node(admin.page, 'ask_name').getByTestId('flow-step-problems').count()).toBe(0)
    }
    await allSaved(ana, ben)

    // Ana's undo takes back her last drag only: the middle step has no stored place again (both maps lay it
    // out the same way), her first drag and Ben's link stay.
    await ana.page.locator('.svelte-flow__pane').click({ position: { x: 5, y: 5 } })
    await ana.page.keyboard.press('Control+z')
    await allSaved(ana)
    await expect.poll(async () => Object.keys(getFlowPositions(await stored(space, 'scenario/onboarding'))).sort()).toEqual(['finish', 'welcome'])
    const after = await stored(space, 'scenario/onboarding')
    expect(getFlowPositions(after)).toEqual({ welcome: positions.welcome, finish: positions.finish })
    expect((after.getMap('scenario').get('steps') as Y.Map<Y.Map<unknown>>).get('finish')?.get('next')).toBe('welcome')
    await expect.poll(() => drawnPosition(ben.page, 'ask_name')).not.toEqual(positions.ask_name)
    await expect.poll(async () => drawnPosition(ben.page, 'ask_name')).toEqual(await drawnPosition(ana.page, 'ask_name'))

    // The README's picture: Ana's whole map, Ben's avatar on the step he has open.
    await ana.page.locator('.svelte-flow__controls-fitview').click()
    await ana.page.screenshot({ path: screenshotPath('flow-map') })
  })

  it('a viewer sees the map but cannot move a node or draw a link', async () => {
    const space = await app.seedSpace(uniqueSpace())
    const vera = await app.admin('Vera', { space, role: 'viewer' })
    await openMap(vera, app.baseUrl, space)
    const before = await drawnPositions(vera.page)
    await expect.poll(() => vera.page.getByRole('button', { name: 'Arrange' }).count()).toBe(0)
    await dragNode(vera.page, 'welcome', 0, 200)
    await drawLink(vera.page, 'welcome', 'button-1-0', 'finish')
    expect(await drawnPositions(vera.page)).toEqual(before)
    await expect.poll(() => vera.page.locator('.svelte-flow__edge[data-id="welcome/button-1-0"]').count()).toBe(0)
    expect(getFlowPositions(await stored(space, 'scenario/onboarding'))).toEqual({})
    expect(projectButtons(await stored(space, 'buttons')).ob_later.action).toEqual({ type: 'end' })
  })

  it('fits a phone: the map and an opened step without sideways scrolling, the step read-only for a viewer', async () => {
    const space = await app.seedSpace(uniqueSpace())
    const vera = await app.admin('Vera', { space, role: 'viewer', viewport: { width: 390, height: 800 } })
    await openMap(vera, app.baseUrl, space)
    await node(vera.page, 'ask_name').getByTestId('flow-step-title').click()
    await expect.poll(() => vera.page.getByTestId('flow-panel').isVisible()).toBe(true)
    await expect.poll(() => stepMessage(vera.page, 'ask_name').getAttribute('contenteditable')).toBe('false')
    const overflow = await vera.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    // The step's card goes under the map, which keeps the window's width.
    const canvas = (await vera.page.locator('.flow-canvas').boundingBox())!
    const panel = (await vera.page.getByTestId('flow-panel').boundingBox())!
    expect(canvas.width).toBeGreaterThan(300)
    expect(panel.y).toBeGreaterThanOrEqual(canvas.y + canvas.height)
    await vera.page.evaluate(() => window.scrollTo(0, 0))
    await vera.page.screenshot({ path: screenshotPath('flow-map-390'), fullPage: true })
  })
})

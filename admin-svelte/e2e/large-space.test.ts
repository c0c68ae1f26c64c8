// A space of more scenarios than the list draws in its first frame
// (scenario-list-page.svelte draws 20, then 100 per frame): every scenario
// gets its row, in order, with the controls of the first and last in place.
// And the list comes without the message editor's script (Quill), which
// the first message field fetches.
import { uniqueSpace } from '@botsync/testkit/server'
import { largeSpace, plantLargeSpace } from '@botsync/testkit/large-space'
import { describe, expect, it } from 'vitest'
import { E2eApp, messageText, stepMessage, useE2eApp } from './harness.ts'

const SCENARIOS = 180

describe('the scenario list of a large space', () => {
  let app: E2eApp
  useE2eApp((started) => (app = started))

  it('lists every scenario, in order, a chunk per frame after the first rows', async () => {
    const space = uniqueSpace()
    const large = largeSpace(space, { scenarios: SCENARIOS, stepsPerScenario: 2 })
    await plantLargeSpace(app.server.db, large)
    const { page } = await app.admin('Ana', { space })
    await page.goto(`${app.baseUrl}/#/${space}/scenarios`)
    const rows = page.getByTestId('scenario-row')
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(SCENARIOS)
    const ids = await rows.evaluateAll((elements) => elements.map((element) => element.getAttribute('data-scenario-id')))
    expect(ids).toEqual(Array.from({ length: SCENARIOS }, (_, i) => large.scenarioId(i)))
    const last = rows.last()
    await expect.poll(() => last.getByRole('textbox').inputValue()).toBe(large.title(SCENARIOS - 1))
    expect(await last.getByRole('button', { name: `Move ${large.title(SCENARIOS - 1)} down` }).isDisabled()).toBe(true)
    expect(
      await rows
        .first()
        .getByRole('button', { name: `Move ${large.title(0)} up` })
        .isDisabled(),
    ).toBe(true)
    expect(
      await rows
        .nth(SCENARIOS - 2)
        .getByRole('button', { name: `Move ${large.title(SCENARIOS - 2)} down` })
        .isDisabled(),
    ).toBe(false)
  })

  it('loads the message editor (Quill) with the first message field, not with the list', async () => {
    const space = uniqueSpace()
    const large = largeSpace(space, { scenarios: 3, stepsPerScenario: 2 })
    await plantLargeSpace(app.server.db, large)
    const { page } = await app.admin('Ana', { space })
    const scripts: string[] = []
    page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname)
    })
    const editorChunk = (): string[] => scripts.filter((path) => path.includes('/assets/rich-text-editor'))
    await page.goto(`${app.baseUrl}/#/${space}/scenarios`)
    // A whole load of the list page: every script it runs is requested again.
    await page.reload()
    await expect.poll(() => page.getByTestId('scenario-row').count()).toBe(3)
    expect(scripts.length).toBeGreaterThan(0)
    expect(editorChunk()).toEqual([])

    await page.goto(`${app.baseUrl}/#/${space}/scenario/${large.scenarioId(0)}`)
    await expect.poll(() => messageText(stepMessage(page, large.stepId(0, 0)))).toBe(large.message(0, 0))
    expect(editorChunk()).toHaveLength(1)
  })
})

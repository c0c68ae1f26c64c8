// A large space planted straight into PostgreSQL (testkit/src/large-space.ts,
// what the `cold` bench loads at 500 × 10) is served whole: the bot's first
// start, with no replica file, answers /start and runs the last scenario, and
// an admin's providers see every scenario and every step.
import { getStepOrder, scenariosRoot, docName } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import type { SimUser } from '@botsync/testkit/fake-bot-api'
import { largeSpace, plantLargeSpace, type LargeSpace } from '@botsync/testkit/large-space'
import { Scene, buttonsOf } from './helpers.ts'

const SCENARIOS = 50
const STEPS = 10
const ada: SimUser = { id: 7101, first_name: 'Ada' }

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

describe('a large planted space', () => {
  it('the bot answers /start on its first start and reaches a step of the last scenario; an admin sees every scenario', async () => {
    let large: LargeSpace | undefined
    scene = await Scene.start({
      withoutBot: true,
      seed: async (server, space) => {
        large = largeSpace(space, { scenarios: SCENARIOS, stepsPerScenario: STEPS })
        await plantLargeSpace(server.db, large)
      },
    })
    const content = large!
    expect(content.documents.size).toBe(4 + SCENARIOS)

    await scene.startBot()
    const welcome = await scene.reply(ada, () => scene.api.sendCommand(ada, 'start'))
    expect(welcome.message!.text).toBe(content.welcome)
    expect(scene.bot!.replica.documentNames()).toHaveLength(SCENARIOS + 4) // settings, buttons, scenarios, published and every scenario

    const last = SCENARIOS - 1
    const entry = await scene.reply(ada, () => scene.api.sendCommand(ada, content.command(last)))
    expect(entry.message!.text).toBe(content.message(last, 0))
    expect(buttonsOf(entry)).toEqual([[['Continue', expect.any(String)]]])
    const second = await scene.reply(ada, () => scene.api.clickButton(ada, entry, buttonsOf(entry)[0][0][1]))
    expect(second.message!.text).toBe(content.message(last, 1))

    const index = await scene.admin('scenarios')
    const listed = [...scenariosRoot(index.doc).entries()].map(([id, entry]) => [id, entry.get('title')])
    expect(listed).toHaveLength(SCENARIOS)
    expect(new Map(listed as [string, string][]).get(content.scenarioId(last))).toBe(content.title(last))
    const lastScenario = await scene.admin(docName.scenario(scene.space, content.scenarioId(last)).slice(scene.space.length + 1))
    expect(getStepOrder(lastScenario.doc)).toEqual(Array.from({ length: STEPS }, (_, j) => content.stepId(last, j)))
  })
})

// The drafts' projection behind "N unpublished changes" and the change list
// against the drafts: equal to projecting every document afresh, and after an
// edit (here, or on another instance: the stamp comes from PostgreSQL) only
// the edited document is read again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { addStep, demoSeed, docName, projectScenarios, projectSpace, removeScenario, setSettingsText, type SpaceDocs } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { DraftProjections } from '../src/versions/draft-projections.ts'
import { startServer, uniqueSpace } from '@botsync/testkit/server'

describe('DraftProjections', () => {
  let server: BotsyncServer
  let other: BotsyncServer
  const space = uniqueSpace()

  beforeAll(async () => {
    server = await startServer()
    other = await startServer()
    await server.spaces.ensure(space)
    for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
  })
  afterAll(async () => {
    await other?.stop()
    await server?.stop()
  })

  /** Every document read afresh from the store and projected. */
  async function fresh(): Promise<ReturnType<typeof projectSpace>> {
    const load = async (name: string) => {
      const doc = new Y.Doc()
      const { state } = await server.store.load(name)
      if (state) Y.applyUpdate(doc, state)
      return doc
    }
    const scenarios = await load(docName.scenarios(space))
    const ids = Object.keys(projectScenarios(scenarios))
    const docs: SpaceDocs = {
      settings: await load(docName.settings(space)),
      buttons: await load(docName.buttons(space)),
      scenarios,
      scenarioDocs: new Map(await Promise.all(ids.map(async (id) => [id, await load(docName.scenario(space, id))] as const))),
    }
    return projectSpace(docs)
  }

  it('projects the drafts, and reads again only what changed, wherever it was written', async () => {
    const reads: string[][] = []
    const projections = new DraftProjections({
      db: server.db,
      store: { readConsistent: (names) => (reads.push([...names]), server.store.readConsistent(names)) },
    })
    expect(await projections.of(space)).toEqual(await fresh())
    expect(reads.flat().length).toBeGreaterThan(3)

    reads.length = 0
    expect(await projections.of(space)).toEqual(await fresh())
    expect(reads).toEqual([])

    // An edit on the other instance: this one's memory never saw it.
    await other.writer.change(docName.settings(space), (doc) => setSettingsText(doc, 'welcome', 'Edited elsewhere'))
    reads.length = 0
    const after = await projections.of(space)
    expect(after.settings.texts.welcome).toBe('Edited elsewhere')
    expect(reads).toEqual([[docName.settings(space)]])

    // A step added to one scenario; a scenario removed from the index.
    await server.writer.change(docName.scenario(space, 'onboarding'), (doc) => void addStep(doc, { id: 'extra', message: 'One more' }))
    await server.writer.change(docName.scenarios(space), (doc) => removeScenario(doc, 'support'))
    reads.length = 0
    const latest = await projections.of(space)
    expect(latest).toEqual(await fresh())
    expect(latest.scenarioDocs.onboarding.steps.extra.message).toBe('One more')
    expect(Object.keys(latest.scenarioDocs)).not.toContain('support')
    expect(reads.flat().sort()).toEqual([docName.scenario(space, 'onboarding'), docName.scenarios(space)].sort())

    // Compaction rewrites the rows, not the content: a re-read, the same projection.
    await server.store.compact(docName.settings(space))
    expect(await projections.of(space)).toEqual(await fresh())
  })
})

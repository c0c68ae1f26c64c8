// A version's projection, assembled from its documents' state hashes: equal
// to projecting every stored state afresh, and a version that shares all but
// one state with one already projected reads only that state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoSeed, docName, projectSpace, setStepMessage } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { docsOf } from '../src/versions/release-publisher.ts'
import { VersionChanges } from '../src/versions/version-changes.ts'
import { VersionStore } from '../src/versions/version-store.ts'
import { startServer, uniqueSpace } from '@botsync/testkit/server'

describe('version projections', () => {
  let server: BotsyncServer
  const space = uniqueSpace()

  beforeAll(async () => {
    server = await startServer()
    await server.spaces.ensure(space)
    for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('assembles versions from projected states, reading only states it has not projected', async () => {
    const first = await server.publisher.publish(space, null, null)
    await server.writer.change(docName.scenario(space, 'onboarding'), (doc) => setStepMessage(doc, 'welcome', 'Changed for release 2'))
    const second = await server.publisher.publish(space, null, null)

    const versions = new VersionStore(server.db)
    const statesRead: string[][] = []
    const spy = Object.assign(Object.create(versions) as VersionStore, {
      states: (s: string, hashes: readonly string[]) => (statesRead.push([...hashes]), versions.states(s, hashes)),
    })
    // Cold: nothing from the publishes is in this instance's memory.
    const changes = new VersionChanges({ db: server.db, store: server.store, versions: spy, drafts: async () => ({}) as never })
    const fresh = async (id: string) => projectSpace(docsOf(await versions.documents(id)))

    expect(await changes.projectionOf(space, first)).toEqual(await fresh(first.id))
    expect(statesRead[0].length).toBeGreaterThan(3)
    const second1 = await changes.projectionOf(space, second)
    expect(second1).toEqual(await fresh(second.id))
    expect(second1.scenarioDocs.onboarding.steps.welcome.message).toBe('Changed for release 2')
    // Only the onboarding scenario's new state.
    expect(statesRead[1]).toHaveLength(1)

    const list = await changes.between(space, first, second)
    expect(list.map((change) => change.kind)).toEqual(['message-changed'])
  })
})

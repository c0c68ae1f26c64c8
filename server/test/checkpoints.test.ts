import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoSeed, docName, setSettingsText, setStepMessage } from '@botsync/shared-docs'
import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { VersionStore, type VersionDocument } from '../src/versions/version-store.ts'
import { apiRequest as api, connect, memberOf, startServer, synced, uniqueSpace, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'

const INTERVAL_SECONDS = 1

async function checkpoints(server: BotsyncServer, space: string): Promise<number> {
  const [row] = await server.db.query<{ n: string }>(`SELECT count(*) AS n FROM versions WHERE space = $1 AND kind = 'checkpoint'`, [space])
  return Number(row.n)
}

async function latestVersionId(server: BotsyncServer, space: string, kind: 'release' | 'checkpoint'): Promise<number> {
  const [row] = await server.db.query<{ id: string }>(`SELECT max(id) AS id FROM versions WHERE space = $1 AND kind = $2`, [space, kind])
  return Number(row.id)
}

async function checkpointsAfter(server: BotsyncServer, space: string, versionId: number): Promise<number> {
  const [row] = await server.db.query<{ n: string }>(`SELECT count(*) AS n FROM versions WHERE space = $1 AND kind = 'checkpoint' AND id > $2`, [space, versionId])
  return Number(row.n)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('automatic checkpoints (CHECKPOINT_INTERVAL)', () => {
  let server: BotsyncServer
  const clients: TestClient[] = []
  const space = uniqueSpace()
  let editor: Awaited<ReturnType<typeof memberOf>>

  beforeAll(async () => {
    server = await startServer({ CHECKPOINT_INTERVAL: String(INTERVAL_SECONDS) })
    editor = await memberOf(server, space, 'editor')
    for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
  })

  it('takes one per interval of editing, none for a space nobody changed since the last version', async () => {
    const settings = connect(wsUrlOf(server), docName.settings(space), editor.token)
    const scenario = connect(wsUrlOf(server), docName.scenario(space, 'onboarding'), editor.token)
    clients.push(settings, scenario)
    await Promise.all([synced(settings), synced(scenario)])

    // Edits across one interval (750 ms < 1 s): one checkpoint per interval, not one per edit. The
    // interval is running while they are made, so they may straddle one tick: two at most.
    for (let i = 0; i < 5; i++) {
      setSettingsText(settings.doc, 'welcome', `Edit ${i}`)
      await sleep(150)
    }
    await waitFor(async () => (await checkpoints(server, space)) >= 1, 'the first checkpoint')
    await sleep(INTERVAL_SECONDS * 2500)
    const afterEdits = await checkpoints(server, space)
    expect(afterEdits).toBeGreaterThanOrEqual(1)
    expect(afterEdits).toBeLessThanOrEqual(2)
    // Nobody edits: none more.
    await sleep(INTERVAL_SECONDS * 2500)
    expect(await checkpoints(server, space)).toBe(afterEdits)

    // Publishing makes a version; a change that the release already holds gives no checkpoint after it.
    // (A tick between the edit being stored and the release may checkpoint the edit first: a change
    // the last version did not hold, so that one is right; none may follow the release.)
    setStepMessage(scenario.doc, 'welcome', 'Published with the release')
    await waitFor(async () => (await api(server, 'GET', `/api/spaces/${space}/publish-status`, editor.token)).body.unpublished > 0, 'the edit to be stored')
    expect((await api(server, 'POST', `/api/spaces/${space}/releases`, editor.token, {})).status).toBe(201)
    const release = await latestVersionId(server, space, 'release')
    await sleep(INTERVAL_SECONDS * 2500)
    expect(await checkpointsAfter(server, space, release)).toBe(0)

    // A change after the release: one more.
    setStepMessage(scenario.doc, 'welcome', 'After the release')
    await waitFor(async () => (await checkpointsAfter(server, space, release)) === 1, 'the checkpoint after the release')
    const versions = (await api(server, 'GET', `/api/spaces/${space}/versions`, editor.token)).body.versions
    expect(versions[0]).toMatchObject({ kind: 'checkpoint', number: await checkpoints(server, space), author: null })
  })

  it('stores no checkpoint of what a version stored meanwhile holds: decided under the space lock, not before it', async () => {
    // A checkpoint reads the space, then inserts; a release stored in between
    // holding the same documents is what the insert compares with.
    const lockedSpace = uniqueSpace()
    await memberOf(server, lockedSpace, 'editor')
    const versions = new VersionStore(server.db)
    const documentOf = (text: string): VersionDocument => {
      const doc = new Y.Doc()
      doc.getText('t').insert(0, text)
      return {
        kind: 'settings',
        state: Y.encodeStateAsUpdate(doc),
        snapshotHash: createHash('sha256')
          .update(Y.encodeSnapshot(Y.snapshot(doc)))
          .digest(),
      }
    }
    const read = [documentOf('the same')]
    expect(await versions.insert(lockedSpace, 'release', { authorId: null, note: null, documents: read })).not.toBeNull()
    expect(await versions.insert(lockedSpace, 'checkpoint', { authorId: null, note: null, documents: read, unlessCheckpointWithinMs: 0 })).toBeNull()
    expect(await versions.insert(lockedSpace, 'checkpoint', { authorId: null, note: null, documents: [documentOf('changed')], unlessCheckpointWithinMs: 0 })).not.toBeNull()
    expect(await checkpoints(server, lockedSpace)).toBe(1)
  })
})

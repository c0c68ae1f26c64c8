import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { demoSeed, docName, setSettingsText, setStepMessage } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { apiRequest as api, connect, memberOf, startServer, synced, uniqueSpace, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'

const INTERVAL_SECONDS = 1

async function checkpoints(server: BotsyncServer, space: string): Promise<number> {
  const [row] = await server.db.query<{ n: string }>(`SELECT count(*) AS n FROM versions WHERE space = $1 AND kind = 'checkpoint'`, [space])
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

    // Edits across one interval: one checkpoint, not one per edit.
    for (let i = 0; i < 5; i++) {
      setSettingsText(settings.doc, 'welcome', `Edit ${i}`)
      await sleep(150)
    }
    await waitFor(async () => (await checkpoints(server, space)) === 1, 'the first checkpoint')
    await sleep(INTERVAL_SECONDS * 2500)
    expect(await checkpoints(server, space)).toBe(1)

    // Publishing makes a version; a change that the release already holds gives no checkpoint.
    setStepMessage(scenario.doc, 'welcome', 'Published with the release')
    await waitFor(async () => (await api(server, 'GET', `/api/spaces/${space}/publish-status`, editor.token)).body.unpublished > 0, 'the edit to be stored')
    expect((await api(server, 'POST', `/api/spaces/${space}/releases`, editor.token, {})).status).toBe(201)
    await sleep(INTERVAL_SECONDS * 2500)
    expect(await checkpoints(server, space)).toBe(1)

    // A change after the release: one more.
    setStepMessage(scenario.doc, 'welcome', 'After the release')
    await waitFor(async () => (await checkpoints(server, space)) === 2, 'the second checkpoint')
    const versions = (await api(server, 'GET', `/api/spaces/${space}/versions`, editor.token)).body.versions
    expect(versions[0]).toMatchObject({ kind: 'checkpoint', number: 2, author: null })
  })
})

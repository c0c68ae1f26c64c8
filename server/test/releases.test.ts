import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { demoSeed, docName, getCurrentRelease, getPublishMode, getSettingsText, projectScenario, setSettingsText, setStepMessage, type VersionSummary } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { apiRequest as api, connect, memberOf, startServer, synced, uniqueSpace, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'
import { SHARED_REDIS_URL, uniquePrefix } from './redis-helpers.ts'

/** What `<space>/published` holds now on this instance. */
async function published(server: BotsyncServer, space: string) {
  const doc = new Y.Doc()
  const state = await server.writer.read(docName.published(space))
  if (state) Y.applyUpdate(doc, state)
  return { mode: getPublishMode(doc), release: getCurrentRelease(doc) }
}

async function versionRows(server: BotsyncServer, space: string): Promise<number> {
  const [row] = await server.db.query<{ n: string }>('SELECT count(*) AS n FROM versions WHERE space = $1', [space])
  return Number(row.n)
}

describe('releases and the publish mode', () => {
  let server: BotsyncServer
  let second: BotsyncServer
  const clients: TestClient[] = []
  const space = uniqueSpace()
  let owner: Awaited<ReturnType<typeof memberOf>>
  let editor: Awaited<ReturnType<typeof memberOf>>
  let viewer: Awaited<ReturnType<typeof memberOf>>

  beforeAll(async () => {
    const redis = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: uniquePrefix() }
    server = await startServer(redis)
    second = await startServer(redis)
    owner = await memberOf(server, space, 'owner')
    editor = await memberOf(server, space, 'editor')
    viewer = await memberOf(server, space, 'viewer')
    for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await second.stop()
    await server.stop()
  })

  it('refuses wrong roles, bad notes and bad modes, and changes nothing', async () => {
    expect((await api(server, 'POST', `/api/spaces/${space}/releases`, viewer.token, { note: 'x' })).body).toMatchObject({ error: 'read-only' })
    expect((await api(server, 'PUT', `/api/spaces/${space}/publish-mode`, editor.token, { mode: 'review' })).body).toMatchObject({ error: 'not-an-owner' })
    const long = await api(server, 'POST', `/api/spaces/${space}/releases`, editor.token, { note: 'n'.repeat(501) })
    expect([long.status, long.body.error]).toEqual([400, 'invalid-note'])
    const mode = await api(server, 'PUT', `/api/spaces/${space}/publish-mode`, owner.token, { mode: 'draft' })
    expect([mode.status, mode.body.error]).toEqual([400, 'invalid-mode'])
    const big = await api(server, 'POST', `/api/spaces/${space}/releases`, editor.token, { note: 'x', pad: 'p'.repeat(20_000) })
    expect([big.status, big.body.error]).toEqual([413, 'body-too-large'])
    const unknown = await api(server, 'GET', `/api/spaces/${uniqueSpace()}/versions`, owner.token)
    expect(unknown.status).toBe(404)
    expect(await versionRows(server, space)).toBe(0)
    expect(await published(server, space)).toEqual({ mode: 'live', release: null })
    const status = await api(server, 'GET', `/api/spaces/${space}/publish-status`, viewer.token)
    expect(status.body).toMatchObject({ mode: 'live', release: null })
    expect(status.body.unpublished).toBeGreaterThan(10)
  })

  it('review mode publishes release 1; a release freezes the drafts and the bot document gets it whole', async () => {
    const review = await api(server, 'PUT', `/api/spaces/${space}/publish-mode`, owner.token, { mode: 'review' })
    expect(review.status).toBe(200)
    expect(review.body).toMatchObject({ mode: 'review', release: { kind: 'release', number: 1, note: 'Review mode turned on', author: { id: owner.userId } }, unpublished: 0 })
    expect((await published(server, space)).release?.content.settings.texts.welcome).toBe('Welcome to the botsync demo bot! Pick an option below.')

    const client = connect(wsUrlOf(server), docName.settings(space), editor.token)
    clients.push(client)
    await synced(client)
    setSettingsText(client.doc, 'welcome', 'Hello from the drafts')
    await waitFor(async () => (await api(server, 'GET', `/api/spaces/${space}/publish-status`, viewer.token)).body.unpublished === 1, 'the draft edit to count as unpublished')
    // Still release 1 for the bot.
    expect((await published(server, space)).release?.content.settings.texts.welcome).not.toBe('Hello from the drafts')

    const release = await api(server, 'POST', `/api/spaces/${space}/releases`, editor.token, { note: '  New welcome  ' })
    expect(release.status).toBe(201)
    expect(release.body).toMatchObject({ kind: 'release', number: 2, note: 'New welcome', author: { id: editor.userId } })
    const now = await published(server, space)
    expect(now.mode).toBe('review')
    expect(now.release).toMatchObject({ number: 2, versionId: release.body.id })
    expect(now.release?.content.settings.texts.welcome).toBe('Hello from the drafts')
    expect(Object.keys(now.release!.content.scenarioDocs).sort()).toEqual(['onboarding', 'support'])
    expect((await api(server, 'GET', `/api/spaces/${space}/publish-status`, viewer.token)).body.unpublished).toBe(0)

    const list = await api(server, 'GET', `/api/spaces/${space}/versions`, viewer.token)
    expect(list.body).toMatchObject({ mode: 'review', current: 2 })
    expect(list.body.versions.map((v: VersionSummary) => [v.kind, v.number])).toEqual([
      ['release', 2],
      ['release', 1],
    ])
    // A release stores only the documents that changed since the one before.
    const [states] = await server.db.query<{ n: string }>('SELECT count(*) AS n FROM version_states WHERE space = $1', [space])
    expect(Number(states.n)).toBe(5 + 1)
  })

  it('lists who changed what between two releases and between a release and the drafts; exports a version', async () => {
    const versions = (await api(server, 'GET', `/api/spaces/${space}/versions`, viewer.token)).body.versions as VersionSummary[]
    const [second, first] = versions
    const between = await api(server, 'GET', `/api/spaces/${space}/versions/${first.id}/changes?against=${second.id}`, viewer.token)
    expect(between.status).toBe(200)
    expect(between.body).toMatchObject({ from: { number: 1 }, to: { number: 2 } })
    expect(between.body.changes).toEqual([
      expect.objectContaining({ kind: 'settings-text-changed', key: 'welcome', document: 'settings', authors: [{ id: editor.userId, name: expect.any(String) }] }),
    ])
    expect(between.body.changes[0].diff).toContainEqual({ op: 'added', text: expect.stringContaining('drafts') })
    // The drafts equal release 2: nothing between them.
    expect((await api(server, 'GET', `/api/spaces/${space}/versions/${second.id}/changes`, viewer.token)).body.changes).toEqual([])
    const bad = await api(server, 'GET', `/api/spaces/${space}/versions/${first.id}/changes?against=nope`, viewer.token)
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid-against'])
    for (const id of ['999999999', 'abc', '0']) {
      const missing = await api(server, 'GET', `/api/spaces/${space}/versions/${id}/changes`, viewer.token)
      expect([missing.status, missing.body.error]).toEqual([404, 'unknown-version'])
    }
    const file = await api(server, 'GET', `/api/spaces/${space}/versions/${first.id}/export`, viewer.token)
    expect(file.body).toMatchObject({
      format: 'botsync-space',
      version: 1,
      // The space's mode now: a version does not store one.
      publishMode: 'review',
      content: { settings: { texts: { welcome: 'Welcome to the botsync demo bot! Pick an option below.' } } },
    })
    expect(file.body.content.scenarios.map((s: { id: string }) => s.id)).toEqual(['onboarding', 'support'])
    // Another space's member cannot read them.
    const stranger = await memberOf(server, uniqueSpace(), 'owner')
    expect((await api(server, 'GET', `/api/spaces/${space}/versions/${first.id}/export`, stranger.token)).status).toBe(403)
  })

  it('two admins publishing at the same moment on two instances get two releases, each the whole space', async () => {
    const [a, b] = await Promise.all([
      api(server, 'POST', `/api/spaces/${space}/releases`, owner.token, { note: 'from one' }),
      api(second, 'POST', `/api/spaces/${space}/releases`, editor.token, { note: 'from two' }),
    ])
    expect([a.status, b.status]).toEqual([201, 201])
    expect([a.body.number, b.body.number].sort()).toEqual([3, 4])
    for (const instance of [server, second]) {
      await waitFor(async () => (await published(instance, space)).release?.number === 4, 'release 4 on both instances')
      const release = (await published(instance, space)).release!
      expect(release.content.settings.texts.welcome).toBe('Hello from the drafts')
      expect(Object.keys(release.content.scenarioDocs).sort()).toEqual(['onboarding', 'support'])
    }
  })

  it('back to live mode keeps the releases', async () => {
    const live = await api(server, 'PUT', `/api/spaces/${space}/publish-mode`, owner.token, { mode: 'live' })
    expect(live.body).toMatchObject({ mode: 'live', release: { number: 4 } })
    expect(await published(server, space)).toMatchObject({ mode: 'live', release: { number: 4 } })
    expect(await versionRows(server, space)).toBe(4)
  })

  it('restores a version, or one scenario of it, into the drafts as a forward change', async () => {
    const versions = (await api(server, 'GET', `/api/spaces/${space}/versions`, viewer.token)).body.versions as VersionSummary[]
    const first = versions.find((v) => v.number === 1 && v.kind === 'release')!
    const watcher = connect(wsUrlOf(server), docName.settings(space), viewer.token)
    clients.push(watcher)
    await synced(watcher)
    const [before] = await server.db.query<{ n: string }>('SELECT count(*) AS n FROM document_updates WHERE name = $1', [docName.settings(space)])

    expect((await api(server, 'POST', `/api/spaces/${space}/versions/${first.id}/restore`, viewer.token, {})).status).toBe(403)
    const unknown = await api(server, 'POST', `/api/spaces/${space}/versions/${first.id}/restore`, editor.token, { scenarioId: 'nope' })
    expect([unknown.status, unknown.body.error]).toEqual([404, 'unknown-scenario'])

    const whole = await api(server, 'POST', `/api/spaces/${space}/versions/${first.id}/restore`, editor.token, {})
    expect(whole.body).toEqual({ changed: ['settings'] })
    await waitFor(() => getSettingsText(watcher.doc, 'welcome')?.toString() === 'Welcome to the botsync demo bot! Pick an option below.', 'the restore to reach a connected client')
    // Forward: the rows before it are all still there, and one more.
    const [after] = await server.db.query<{ n: string }>('SELECT count(*) AS n FROM document_updates WHERE name = $1', [docName.settings(space)])
    expect(Number(after.n)).toBeGreaterThan(Number(before.n))
    expect((await api(server, 'POST', `/api/spaces/${space}/versions/${first.id}/restore`, editor.token, {})).body).toEqual({ changed: [] })

    const scenario = connect(wsUrlOf(server), docName.scenario(space, 'onboarding'), editor.token)
    clients.push(scenario)
    await synced(scenario)
    setStepMessage(scenario.doc, 'welcome', 'A draft that should go')
    setSettingsText(watcher.doc, 'welcome', 'ignored: the watcher is a viewer')
    await waitFor(async () => (await api(server, 'GET', `/api/spaces/${space}/versions/${first.id}/changes`, viewer.token)).body.changes.length === 1, 'the step edit to be stored')
    const one = await api(server, 'POST', `/api/spaces/${space}/versions/${first.id}/restore`, editor.token, { scenarioId: 'onboarding' })
    expect(one.body).toEqual({ changed: ['scenario/onboarding'] })
    await waitFor(() => projectScenario(scenario.doc).steps.welcome.message !== 'A draft that should go', 'the scenario restore to reach the editor')
    expect((await api(server, 'GET', `/api/spaces/${space}/versions/${first.id}/changes`, viewer.token)).body.changes).toEqual([])
  })
})

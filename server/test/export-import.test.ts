import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { demoSeed, docName, getCurrentRelease, getPublishMode, getSettingsText, projectScenario, type VersionSummary } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { apiRequest as api, connect, memberOf, startServer, synced, uniqueSpace, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'

/** The stored state vector of every content document of the space (what an import may change). */
async function storedVectors(server: BotsyncServer, space: string, scenarioIds: string[]): Promise<Record<string, string>> {
  const names = [`${space}/settings`, `${space}/buttons`, `${space}/scenarios`, ...scenarioIds.map((id) => `${space}/scenario/${id}`)]
  const result: Record<string, string> = {}
  for (const name of names) {
    const { state } = await server.store.load(name)
    const doc = new Y.Doc()
    if (state) Y.applyUpdate(doc, state)
    result[name] = Buffer.from(Y.encodeStateVector(doc)).toString('hex')
  }
  return result
}

/** The publish mode and current release number `<space>/published` holds now. */
async function published(server: BotsyncServer, space: string): Promise<{ mode: string; release: number | null }> {
  const doc = new Y.Doc()
  const state = await server.writer.read(docName.published(space))
  if (state) Y.applyUpdate(doc, state)
  return { mode: getPublishMode(doc), release: getCurrentRelease(doc)?.number ?? null }
}

const withoutOrigin = (file: any) => ({ ...file, space: undefined, exportedAt: undefined })

describe('export and import of a space', () => {
  let server: BotsyncServer
  const clients: TestClient[] = []
  const source = uniqueSpace()
  let owner: Awaited<ReturnType<typeof memberOf>>

  beforeAll(async () => {
    server = await startServer()
    owner = await memberOf(server, source, 'owner')
    for (const [name, update] of demoSeed(source)) await server.store.append(name, update)
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
  })

  it('export → import into a fresh space → export: the same file; a second import changes nothing', async () => {
    const exported = await api(server, 'GET', `/api/spaces/${source}/export`, owner.token)
    expect(exported.status).toBe(200)
    expect(exported.headers.get('content-disposition')).toBe(`attachment; filename="${source}-botsync.json"`)
    expect(exported.body).toMatchObject({ format: 'botsync-space', version: 1, space: { id: source, name: source }, publishMode: 'live' })
    expect(exported.body.content.scenarios.map((s: { id: string }) => s.id)).toEqual(['onboarding', 'support'])

    const target = uniqueSpace()
    const editor = await memberOf(server, target, 'editor')
    const first = await api(server, 'POST', `/api/spaces/${target}/import`, editor.token, exported.body)
    expect(first).toMatchObject({ status: 200, body: { changed: 5, warnings: [] } })
    // History will say who imported: every stored row of the import names the editor.
    await server.store.flush()
    const authors = await server.db.query<{ author_id: string | null }>(`SELECT DISTINCT author_id::text FROM document_updates WHERE left(name, length($1) + 1) = $1 || '/'`, [
      target,
    ])
    expect(authors.map((row) => row.author_id)).toEqual([editor.userId])
    const again = await api(server, 'GET', `/api/spaces/${target}/export`, editor.token)
    expect(withoutOrigin(again.body)).toEqual(withoutOrigin(exported.body))

    const before = await storedVectors(server, target, ['onboarding', 'support'])
    const second = await api(server, 'POST', `/api/spaces/${target}/import`, editor.token, again.body)
    expect(second).toMatchObject({ status: 200, body: { changed: 0 } })
    expect(await storedVectors(server, target, ['onboarding', 'support'])).toEqual(before)
  })

  it('a space in review mode: the export says so; an owner importing it into a fresh space switches it to review, which releases the imported content', async () => {
    const reviewed = uniqueSpace()
    const reviewedOwner = await memberOf(server, reviewed, 'owner')
    for (const [name, update] of demoSeed(reviewed)) await server.store.append(name, update)
    expect((await api(server, 'PUT', `/api/spaces/${reviewed}/publish-mode`, reviewedOwner.token, { mode: 'review' })).status).toBe(200)
    const exported = await api(server, 'GET', `/api/spaces/${reviewed}/export`, reviewedOwner.token)
    expect(exported.body.publishMode).toBe('review')
    exported.body.content.settings.texts.welcome = 'Welcome, imported'

    const target = uniqueSpace()
    const targetOwner = await memberOf(server, target, 'owner')
    expect(await published(server, target)).toEqual({ mode: 'live', release: null })
    const first = await api(server, 'POST', `/api/spaces/${target}/import`, targetOwner.token, exported.body)
    // The five content documents and `<space>/published`.
    expect(first).toMatchObject({ status: 200, body: { changed: 6, warnings: [] } })
    expect(await published(server, target)).toEqual({ mode: 'review', release: 1 })
    const versions = await api(server, 'GET', `/api/spaces/${target}/versions`, targetOwner.token)
    expect(versions.body).toMatchObject({ mode: 'review', current: 1 })
    const [release] = versions.body.versions as VersionSummary[]
    expect(release).toMatchObject({ kind: 'release', number: 1, note: 'Review mode turned on', author: { id: targetOwner.userId } })
    // Release 1 is the imported content, not the empty space before it.
    const released = await api(server, 'GET', `/api/spaces/${target}/versions/${release.id}/export`, targetOwner.token)
    expect(released.body.content.settings.texts.welcome).toBe('Welcome, imported')

    const again = await api(server, 'GET', `/api/spaces/${target}/export`, targetOwner.token)
    expect(again.body.publishMode).toBe('review')
    expect(withoutOrigin(again.body)).toEqual(withoutOrigin(exported.body))
    expect(await api(server, 'POST', `/api/spaces/${target}/import`, targetOwner.token, again.body)).toMatchObject({ status: 200, body: { changed: 0, warnings: [] } })
    // A file without publishMode (exported before it existed) leaves the mode alone.
    const older = { ...again.body, publishMode: undefined }
    expect(await api(server, 'POST', `/api/spaces/${target}/import`, targetOwner.token, older)).toMatchObject({ status: 200, body: { changed: 0, warnings: [] } })
    expect(await published(server, target)).toEqual({ mode: 'review', release: 1 })
    // Back to live, the same way; the release stays.
    expect(await api(server, 'POST', `/api/spaces/${target}/import`, targetOwner.token, { ...again.body, publishMode: 'live' })).toMatchObject({
      status: 200,
      body: { changed: 1, warnings: [] },
    })
    expect(await published(server, target)).toEqual({ mode: 'live', release: 1 })
  })

  it("an editor's import writes the content but keeps the publish mode, and says so in a warning", async () => {
    const file = (await api(server, 'GET', `/api/spaces/${source}/export`, owner.token)).body
    const target = uniqueSpace()
    const editor = await memberOf(server, target, 'editor')
    const imported = await api(server, 'POST', `/api/spaces/${target}/import`, editor.token, { ...file, publishMode: 'review' })
    expect(imported).toMatchObject({ status: 200, body: { changed: 5 } })
    expect(imported.body.warnings).toEqual([{ path: 'publishMode', code: 'publish-mode-not-applied', message: 'only an owner changes the publish mode; the space stays "live"' }])
    expect(await published(server, target)).toEqual({ mode: 'live', release: null })
    const [versions] = await server.db.query<{ n: string }>('SELECT count(*) AS n FROM versions WHERE space = $1', [target])
    expect(Number(versions.n)).toBe(0)
    const again = await api(server, 'GET', `/api/spaces/${target}/export`, editor.token)
    expect(withoutOrigin(again.body)).toEqual(withoutOrigin(file))
  })

  it('refuses a publishMode other than "live" or "review", at its path, and changes nothing', async () => {
    const file = (await api(server, 'GET', `/api/spaces/${source}/export`, owner.token)).body
    file.content.settings.texts.welcome = 'Not imported'
    const before = await storedVectors(server, source, ['onboarding', 'support'])
    const modeBefore = await published(server, source)
    for (const publishMode of ['draft', null, 1]) {
      const refused = await api(server, 'POST', `/api/spaces/${source}/import`, owner.token, { ...file, publishMode })
      expect(refused.status).toBe(422)
      expect(refused.body).toMatchObject({ error: 'invalid-export', message: 'the file has 1 problem; nothing was imported' })
      expect(refused.body.problems).toEqual([{ path: 'publishMode', code: 'publish-mode-invalid', message: expect.stringContaining('"live" or "review"') }])
    }
    expect(await storedVectors(server, source, ['onboarding', 'support'])).toEqual(before)
    expect(await published(server, source)).toEqual(modeBefore)
  })

  it('refuses an invalid file with its problems and their paths, and leaves the drafts as they were', async () => {
    const file = (await api(server, 'GET', `/api/spaces/${source}/export`, owner.token)).body
    file.content.scenarios[1].steps[0].message = 'x'.repeat(4097)
    file.content.scenarios[0].steps[1].next = 'nowhere'
    file.content.buttons = []
    // Valid on its own: only the problems above refuse it, and it must not be written either.
    file.content.settings.texts.welcome = 'Not imported'
    const before = await storedVectors(server, source, ['onboarding', 'support'])
    const refused = await api(server, 'POST', `/api/spaces/${source}/import`, owner.token, file)
    expect(refused.status).toBe(422)
    expect(refused.body.error).toBe('invalid-export')
    expect(refused.body.problems.map((p: { path: string; code: string }) => [p.path, p.code])).toEqual(
      expect.arrayContaining([
        ['content.scenarios[1].steps[0].message', 'message-too-long'],
        ['content.scenarios[0].steps[1].next', 'next-step-missing'],
      ]),
    )
    expect(await storedVectors(server, source, ['onboarding', 'support'])).toEqual(before)
    expect(await api(server, 'POST', `/api/spaces/${source}/import`, owner.token, '{"format": ')).toMatchObject({ status: 400, body: { error: 'invalid-json' } })
    expect(await storedVectors(server, source, ['onboarding', 'support'])).toEqual(before)
  })

  it('a client connected to the space sees the import arrive', async () => {
    const file = (await api(server, 'GET', `/api/spaces/${source}/export`, owner.token)).body
    const target = uniqueSpace()
    const editor = await memberOf(server, target, 'editor')
    const settings = connect(wsUrlOf(server), `${target}/settings`, editor.token)
    const onboarding = connect(wsUrlOf(server), `${target}/scenario/onboarding`, editor.token)
    clients.push(settings, onboarding)
    await Promise.all([synced(settings), synced(onboarding)])
    file.content.settings.texts.welcome = 'Imported welcome'
    expect((await api(server, 'POST', `/api/spaces/${target}/import`, editor.token, file)).status).toBe(200)
    await waitFor(() => getSettingsText(settings.doc, 'welcome')?.toString() === 'Imported welcome', 'the imported welcome text')
    await waitFor(() => projectScenario(onboarding.doc).stepOrder.join() === 'welcome,ask_name,finish', 'the imported steps')
  })

  it('viewers may export but not import; non-members are forbidden-space; an unknown space is 404; an oversize body 413', async () => {
    const file = (await api(server, 'GET', `/api/spaces/${source}/export`, owner.token)).body
    const viewer = await memberOf(server, uniqueSpace(), 'viewer')
    await server.members.add(source, viewer.userId, 'viewer')
    expect((await api(server, 'GET', `/api/spaces/${source}/export`, viewer.token)).status).toBe(200)
    expect(await api(server, 'POST', `/api/spaces/${source}/import`, viewer.token, file)).toMatchObject({ status: 403, body: { error: 'read-only' } })
    const stranger = await memberOf(server, uniqueSpace(), 'owner')
    expect(await api(server, 'GET', `/api/spaces/${source}/export`, stranger.token)).toMatchObject({ status: 403, body: { error: 'forbidden-space' } })
    expect(await api(server, 'POST', `/api/spaces/${source}/import`, stranger.token, file)).toMatchObject({ status: 403, body: { error: 'forbidden-space' } })
    const missing = uniqueSpace()
    expect(await api(server, 'GET', `/api/spaces/${missing}/export`, owner.token)).toMatchObject({ status: 404, body: { error: 'unknown-space' } })
    expect(await api(server, 'POST', `/api/spaces/${missing}/import`, owner.token, file)).toMatchObject({ status: 404, body: { error: 'unknown-space' } })
    const deleting = uniqueSpace()
    const deletingOwner = await memberOf(server, deleting, 'owner')
    await server.spaces.markDeleting(deleting, 60)
    expect(await api(server, 'POST', `/api/spaces/${deleting}/import`, deletingOwner.token, file)).toMatchObject({ status: 409, body: { error: 'space-deleting' } })
    const before = await storedVectors(server, source, ['onboarding', 'support'])
    const huge = { ...file, content: { ...file.content, settings: { ...file.content.settings, texts: { ...file.content.settings.texts, welcome: 'x'.repeat(5 * 1024 * 1024) } } } }
    expect(await api(server, 'POST', `/api/spaces/${source}/import`, owner.token, huge)).toMatchObject({ status: 413, body: { error: 'body-too-large' } })
    expect(await storedVectors(server, source, ['onboarding', 'support'])).toEqual(before)
  })
})

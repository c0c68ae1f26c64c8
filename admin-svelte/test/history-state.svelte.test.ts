import { docName, exportSpace, getStepMessage, projectScenarios, setStepMessage, type SpaceDocs, type VersionSummary } from '@botsync/shared-docs'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { HistoryState } from '../src/lib/history/history-state.svelte.ts'
import { FakeApi, settle } from './fake-api.ts'
import { link, LocalSource } from './local-source.ts'

const SPACE = 'coffee'
const release = (number: number, id = `r${number}`): VersionSummary => ({
  id,
  kind: 'release',
  number,
  author: { id: 'u-ana', name: 'Ana' },
  createdAt: '2026-12-01T10:00:00.000Z',
  note: null,
})

function spaceDocs(source: LocalSource): SpaceDocs {
  const scenarios = source.document(docName.scenarios(SPACE)).doc
  const ids = Object.keys(projectScenarios(scenarios))
  return {
    settings: source.document(docName.settings(SPACE)).doc,
    buttons: source.document(docName.buttons(SPACE)).doc,
    scenarios,
    scenarioDocs: new Map(ids.map((id) => [id, source.document(docName.scenario(SPACE, id)).doc])),
  }
}

/** Ana's and Ben's copies of the demo space, linked document by document like two clients of one server. */
function twoAdmins(): { ana: LocalSource; ben: LocalSource } {
  const ana = LocalSource.seeded(SPACE)
  const ben = new LocalSource()
  for (const [name, document] of ana.documents) link(document.doc, ben.document(name).doc)
  return { ana, ben }
}

function withApi(file: unknown): FakeApi {
  return new FakeApi()
    .on(`GET /api/spaces/${SPACE}/versions`, { body: { mode: 'live', current: 2, versions: [release(2), release(1)] } })
    .on(`GET /api/spaces/${SPACE}/versions/r1/export`, { body: file })
    .on(`GET /api/spaces/${SPACE}/versions/r2/export`, { body: file })
    .on(`GET /api/spaces/${SPACE}/versions/r1/changes?against=r2`, { body: { from: release(1), to: release(2), changes: [] } })
    .on(`GET /api/spaces/${SPACE}/versions/r2/changes?against=draft`, { body: { from: release(2), to: null, changes: [] } })
}

describe('HistoryState (#/<space>/history)', () => {
  it('compares the newest version with the one before it, or with the drafts', async () => {
    const { ana } = twoAdmins()
    const api = withApi(exportSpace({ space: { id: SPACE, name: SPACE }, docs: spaceDocs(ana) }))
    const history = new HistoryState(ana, SPACE, { token: () => 'jwt', fetch: api.fetch })
    await history.refresh()
    expect(history.selected?.id).toBe('r2')
    expect(history.previous?.id).toBe('r1')
    expect(api.callsTo(`GET /api/spaces/${SPACE}/versions/r1/changes?against=r2`)).toHaveLength(1)
    expect(history.scenarios.map((s) => s.id)).toContain('onboarding')
    await history.compareWith('draft')
    expect(api.callsTo(`GET /api/spaces/${SPACE}/versions/r2/changes?against=draft`)).toHaveLength(1)
    expect(history.changes).toEqual([])
    // One export read per version, however often it is compared.
    expect(api.callsTo(`GET /api/spaces/${SPACE}/versions/r2/export`)).toHaveLength(1)
    history.destroy()
  })

  it('restores a version as Ana’s own edit: it reaches Ben, his later words stay, and her undo takes back only the restore', async () => {
    const { ana, ben } = twoAdmins()
    const file = exportSpace({ space: { id: SPACE, name: SPACE }, docs: spaceDocs(ana) })
    const api = withApi(file)
    const history = new HistoryState(ana, SPACE, { token: () => 'jwt', fetch: api.fetch })
    const benDoc = ben.document(docName.scenario(SPACE, 'onboarding')).doc
    const original = getStepMessage(benDoc, 'welcome')!.toString()
    setStepMessage(benDoc, 'welcome', 'BEN DRAFT')

    expect(await history.restore('r1')).toEqual({ ok: true, changed: 1 })
    expect(getStepMessage(benDoc, 'welcome')!.toString()).toBe(original)
    getStepMessage(benDoc, 'welcome')!.insert(original.length, ' KEPT')

    expect(history.undo.canUndo).toBe(true)
    expect(history.undo.undo()).toBe(true)
    const anaDoc = ana.document(docName.scenario(SPACE, 'onboarding')).doc
    expect(getStepMessage(anaDoc, 'welcome')!.toString()).toBe('BEN DRAFT KEPT')
    expect(getStepMessage(benDoc, 'welcome')!.toString()).toBe('BEN DRAFT KEPT')
    // Restoring what the drafts already hold writes nothing.
    setStepMessage(benDoc, 'welcome', original)
    expect(await history.restore('r1')).toEqual({ ok: true, changed: 0 })
    history.destroy()
    expect(ana.released).toEqual(expect.arrayContaining([docName.scenario(SPACE, 'onboarding'), docName.scenarios(SPACE)]))
  })

  it('restores one scenario: its document and its index entry only', async () => {
    const { ana, ben } = twoAdmins()
    const file = exportSpace({ space: { id: SPACE, name: SPACE }, docs: spaceDocs(ana) })
    const history = new HistoryState(ana, SPACE, { token: () => 'jwt', fetch: withApi(file).fetch })
    setStepMessage(ben.document(docName.scenario(SPACE, 'onboarding')).doc, 'welcome', 'BEN DRAFT')
    const settings = ana.document(docName.settings(SPACE)).doc
    const before = Y.encodeStateVector(settings)
    expect(await history.restore('r1', 'onboarding')).toEqual({ ok: true, changed: 1 })
    expect(ana.opened).toEqual([docName.scenario(SPACE, 'onboarding'), docName.scenarios(SPACE)])
    expect(Y.encodeStateVector(settings)).toEqual(before)
    expect(await history.restore('r1', 'no-such')).toEqual({ ok: false, message: 'This version has no such scenario.' })
    history.destroy()
  })

  it('refuses to restore into documents this user may not change, and changes nothing', async () => {
    const ana = LocalSource.seeded(SPACE)
    const file = exportSpace({ space: { id: SPACE, name: SPACE }, docs: spaceDocs(ana) })
    const doc = ana.document(docName.scenario(SPACE, 'onboarding')).doc
    setStepMessage(doc, 'welcome', 'changed since')
    for (const document of ana.documents.values()) document.readOnly = true
    const history = new HistoryState(ana, SPACE, { token: () => 'jwt', fetch: withApi(file).fetch })
    const result = await history.restore('r1')
    await settle()
    expect(result).toEqual({ ok: false, message: 'This space is read-only for you: nothing was changed.' })
    expect(getStepMessage(doc, 'welcome')!.toString()).toBe('changed since')
    expect(history.undo.canUndo).toBe(false)
    history.destroy()
  })
})

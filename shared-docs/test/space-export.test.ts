import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { applyImport, exportSpace, projectScenario, setMediaInfo, setStepMedia, validateSpaceExport, type SpaceDocs, type SpaceExport } from '../src/index.ts'
import { demoDocs } from './helpers.ts'

const space = { id: 'demo', name: 'Demo' }
const now = new Date('2026-01-01T00:00:00.000Z')

const emptyDocs = (): SpaceDocs => ({ settings: new Y.Doc(), buttons: new Y.Doc(), scenarios: new Y.Doc(), scenarioDocs: new Map() })
const states = (docs: SpaceDocs) => [docs.settings, docs.buttons, docs.scenarios, ...docs.scenarioDocs.values()].map((d) => Buffer.from(Y.encodeStateVector(d)).toString('hex'))

describe('space export', () => {
  it('is the projections in the versioned format', () => {
    const file = exportSpace({ space, docs: demoDocs(), now })
    expect(file).toMatchObject({ format: 'botsync-space', version: 1, space, exportedAt: now.toISOString(), publishMode: 'live' })
    expect(exportSpace({ space, docs: demoDocs(), publishMode: 'review', now }).publishMode).toBe('review')
    expect(file.content.scenarios.map((s) => [s.id, s.entryStepId, s.steps.map((st) => st.id)])).toEqual([
      ['onboarding', 'welcome', ['welcome', 'ask_name', 'finish']],
      ['support', 'topic', ['topic', 'contact']],
    ])
    expect(file.content.buttons.map((b) => b.id)).toEqual(['back', 'ob_continue', 'ob_later', 'start', 'sup_billing', 'sup_tech', 'support', 'website'])
    expect(validateSpaceExport(JSON.parse(JSON.stringify(file)))).toMatchObject({ ok: true, warnings: [] })
  })

  it('export → import into empty documents → export: the same file; a second import writes nothing', () => {
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs: demoDocs(), now }))) as SpaceExport
    const target = emptyDocs()
    const first = applyImport(target, file, () => new Y.Doc())
    expect(first.sort()).toEqual(['buttons', 'scenario/onboarding', 'scenario/support', 'scenarios', 'settings'])
    expect(exportSpace({ space, docs: target, now })).toEqual(file)
    const before = states(target)
    const updates: Uint8Array[] = []
    for (const doc of [target.settings, target.buttons, target.scenarios, ...target.scenarioDocs.values()]) doc.on('update', (u: Uint8Array) => updates.push(u))
    expect(applyImport(target, file, () => new Y.Doc())).toEqual([])
    expect(updates).toEqual([])
    expect(states(target)).toEqual(before)
  })

  it('replaces the drafts: scenarios, steps and buttons not in the file are removed, changed ones rewritten in place', () => {
    const docs = demoDocs()
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs, now }))) as SpaceExport
    file.content.scenarios = file.content.scenarios.filter((s) => s.id === 'onboarding')
    const onboarding = file.content.scenarios[0]
    onboarding.steps = [onboarding.steps[2], onboarding.steps[0]]
    onboarding.steps[0].message = 'Done, {name}.'
    onboarding.entryStepId = 'finish'
    file.content.buttons = file.content.buttons.filter((b) => !b.id.startsWith('sup_'))
    file.content.settings.texts.welcome = 'Hello again'
    const changed = applyImport(docs, file, () => new Y.Doc())
    expect(changed.sort()).toEqual(['buttons', 'scenario/onboarding', 'scenarios', 'settings'])
    expect(exportSpace({ space, docs, now })).toEqual(file)
  })

  it('refuses a broken file with every problem and its path', () => {
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs: demoDocs(), now })))
    file.content.scenarios[1].steps[0].message = 'x'.repeat(4097)
    file.content.scenarios[0].steps[1].next = 'nowhere'
    file.content.buttons.push({ ...file.content.buttons[0] })
    file.content.buttons[2].action = { type: 'callback', data: 'y'.repeat(65) }
    file.content.scenarios[0].trigger.command = 'Not A Command'
    const structural = validateSpaceExport(file)
    expect(structural).toEqual({ ok: false, problems: [{ path: 'content.buttons[8].id', code: 'duplicate-id', message: 'Id "back" is used twice.' }] })
    file.content.buttons.pop()
    const result = validateSpaceExport(file)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.problems.map((p) => [p.path, p.code])).toEqual(
      expect.arrayContaining([
        ['content.scenarios[1].steps[0].message', 'message-too-long'],
        ['content.scenarios[0].steps[1].next', 'next-step-missing'],
        ['content.buttons[2].action.data', 'callback-data-too-long'],
        ['content.scenarios[0].trigger.command', 'command-invalid'],
      ]),
    )
  })

  it('refuses an unknown version, unknown and reserved fields, wrong types', () => {
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs: demoDocs(), now })))
    expect(validateSpaceExport({ ...file, version: 2 })).toMatchObject({ ok: false, problems: [{ path: 'version', code: 'version-unsupported' }] })
    expect(validateSpaceExport('nope')).toMatchObject({ ok: false, problems: [{ path: '', code: 'not-an-object' }] })
    file.languages = ['en']
    file.publishMode = 'draft'
    file.content.settings.flags.botEnabled = 'yes'
    file.content.scenarios[0].steps[0].colour = 'red'
    file.content.scenarios[1].steps[0].keyboard.rows = [['a', 1]]
    const result = validateSpaceExport(file)
    expect(!result.ok && result.problems.map((p) => [p.path, p.code])).toEqual([
      ['languages', 'reserved-field'],
      ['publishMode', 'publish-mode-invalid'],
      ['content.settings.flags.botEnabled', 'not-a-boolean'],
      ['content.scenarios[0].steps[0].colour', 'unknown-field'],
      ['content.scenarios[1].steps[0].keyboard.rows[0][1]', 'not-a-string'],
    ])
  })

  it('publishMode: "live" or "review", or left out (an older file; the space keeps its mode)', () => {
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs: demoDocs(), publishMode: 'review', now })))
    expect(validateSpaceExport(file)).toMatchObject({ ok: true, value: { publishMode: 'review' }, warnings: [] })
    delete file.publishMode
    const older = validateSpaceExport(file)
    expect(older).toMatchObject({ ok: true, warnings: [] })
    expect(older.ok && Object.hasOwn(older.value, 'publishMode')).toBe(false)
    for (const wrong of ['Review', '', null, 1, ['live']]) {
      expect(validateSpaceExport({ ...file, publishMode: wrong })).toEqual({
        ok: false,
        problems: [{ path: 'publishMode', code: 'publish-mode-invalid', message: 'Must be "live" or "review", or left out to keep the space\'s mode.' }],
      })
    }
  })

  it('imports the draft states every space has (an empty step, a removed button) and reports them as warnings', () => {
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs: demoDocs(), now })))
    file.content.scenarios[1].steps[1].message = ''
    file.content.buttons = file.content.buttons.filter((b: { id: string }) => b.id !== 'back')
    const result = validateSpaceExport(file)
    expect(result.ok).toBe(true)
    expect(result.ok && result.warnings.map((p) => [p.path, p.code])).toEqual([
      ['content.scenarios[1].steps[0].keyboard.rows[1][0]', 'keyboard-button-missing'],
      ['content.scenarios[1].steps[1].message', 'message-empty'],
    ])
  })

  it("carries a step's media by id: round trip, removal, malformed refused, files the space lacks reported, not refused", () => {
    const photo = 'ab'.repeat(32)
    const docs = demoDocs()
    setStepMedia(docs.scenarioDocs.get('onboarding')!, 'finish', { items: [{ id: photo, kind: 'photo' }] })
    setMediaInfo(docs.settings, photo, { kind: 'photo', mime: 'image/png', bytes: 10, name: 'p.png' })
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs, now }))) as SpaceExport
    const finish = () => file.content.scenarios[0].steps.find((step) => step.id === 'finish')!
    expect(finish().media).toEqual({ items: [{ id: photo, kind: 'photo' }] })
    // The export holds no library: the importing space's is asked for.
    expect(validateSpaceExport(file, { media: { [photo]: { kind: 'photo', mime: 'image/png', bytes: 10, name: 'p.png' } } })).toMatchObject({ ok: true, warnings: [] })
    const lacking = validateSpaceExport(file)
    expect(lacking).toMatchObject({ ok: true, warnings: [{ path: 'content.scenarios[0].steps[2].media.items[0].id', code: 'media-missing' }] })

    const target = emptyDocs()
    applyImport(target, file, () => new Y.Doc())
    expect(projectScenario(target.scenarioDocs.get('onboarding')!).steps.finish.media).toEqual({ items: [{ id: photo, kind: 'photo' }] })
    // A file whose step has no media takes it off (a restore of a version from before the media was chosen).
    delete finish().media
    applyImport(target, file, () => new Y.Doc())
    expect(projectScenario(target.scenarioDocs.get('onboarding')!).steps.finish.media).toBeUndefined()

    const broken = JSON.parse(JSON.stringify(file))
    broken.content.scenarios[0].steps[2].media = { items: [{ id: 'cat.jpg', kind: 'sticker' }] }
    const refused = validateSpaceExport(broken)
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.problems.map((p) => p.code)).toEqual(['media-id-invalid', 'media-kind-invalid'])
  })

  it("the README's example is a valid file, and imports into empty documents as itself", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const example = /<!-- export-example -->\n```json\n([\s\S]*?)\n```/.exec(readme)?.[1]
    const result = validateSpaceExport(JSON.parse(example ?? 'null'))
    expect(result).toMatchObject({ ok: true, warnings: [] })
    const docs = emptyDocs()
    if (result.ok) applyImport(docs, result.value, () => new Y.Doc())
    expect(result.ok && exportSpace({ space: result.value.space, docs, publishMode: result.value.publishMode, now: new Date(result.value.exportedAt) })).toEqual(
      result.ok && result.value,
    )
  })
})

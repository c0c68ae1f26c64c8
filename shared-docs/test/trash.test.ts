import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  emptyTrash,
  exportSpace,
  listTrash,
  projectButtons,
  projectScenario,
  projectScenarios,
  removeFromTrash,
  restoreButton,
  restoreScenario,
  restoreStep,
  setButton,
  setStepMedia,
  setStepTitle,
  trashButton,
  trashRoot,
  trashScenario,
  trashStep,
  updateScenario,
} from '../src/index.ts'
import { demoDocs } from './helpers.ts'

const PHOTO = 'a'.repeat(64)

describe('trash', () => {
  it('keeps a deleted step, with all it had, and puts it back at its place', () => {
    const { scenarioDocs } = demoDocs()
    const doc = scenarioDocs.get('onboarding')!
    setStepTitle(doc, 'ask_name', 'Ask the name')
    setStepMedia(doc, 'ask_name', { items: [{ id: PHOTO, kind: 'photo' }] })
    const before = projectScenario(doc)

    expect(trashStep(doc, 'ask_name', { at: 1000, by: 'Ana' })).toBe(true)
    expect(projectScenario(doc).stepOrder).toEqual(['welcome', 'finish'])
    expect(listTrash(doc)).toEqual([{ id: 'ask_name', kind: 'step', deletedAt: 1000, deletedBy: 'Ana', index: 1, step: before.steps.ask_name }])

    expect(restoreStep(doc, 'ask_name')).toBe('ask_name')
    expect(projectScenario(doc)).toEqual(before)
    expect(listTrash(doc)).toEqual([])
    expect(restoreStep(doc, 'ask_name')).toBeNull()
  })

  it('restores a step without a next step that is gone, and under a fresh id when its own is taken', () => {
    const { scenarioDocs } = demoDocs()
    const doc = scenarioDocs.get('onboarding')!
    trashStep(doc, 'ask_name', { at: 1 })
    trashStep(doc, 'finish', { at: 2 })
    expect(listTrash(doc).map((item) => item.id)).toEqual(['finish', 'ask_name'])
    // ask_name continued with finish, which is in the trash too.
    expect(restoreStep(doc, 'ask_name')).toBe('ask_name')
    expect(projectScenario(doc).steps.ask_name.next).toBeNull()

    // A trash entry whose id is in use again.
    trashRoot(doc).set('welcome', { ...(trashRoot(doc).get('finish') as object), id: 'welcome' })
    const restored = restoreStep(doc, 'welcome')!
    expect(restored).not.toBe('welcome')
    expect(projectScenario(doc).steps[restored].message).toBe('Nice to meet you, {name}! You are all set.')
  })

  it('is not part of the content: projections and exports do not see it', () => {
    const docs = demoDocs()
    const before = exportSpace({ space: { id: 'demo', name: 'Demo' }, docs, now: new Date(0) })
    trashStep(docs.scenarioDocs.get('onboarding')!, 'ask_name', { at: 1 })
    restoreStep(docs.scenarioDocs.get('onboarding')!, 'ask_name')
    trashButton(docs.buttons, 'website', { at: 1 })
    restoreButton(docs.buttons, 'website')
    // Something left in the trash changes nothing either.
    setButton(docs.buttons, 'spare', { text: 'Spare', action: { type: 'end' } })
    trashButton(docs.buttons, 'spare', { at: 2 })
    expect(exportSpace({ space: { id: 'demo', name: 'Demo' }, docs, now: new Date(0) })).toEqual(before)
  })

  it('keeps a deleted button and brings it back', () => {
    const { buttons } = demoDocs()
    const before = projectButtons(buttons).website
    expect(trashButton(buttons, 'website', { at: 5 })).toBe(true)
    expect(projectButtons(buttons).website).toBeUndefined()
    expect(listTrash(buttons)).toEqual([{ id: 'website', kind: 'button', deletedAt: 5, button: { text: 'Website', action: before.action } }])
    expect(restoreButton(buttons, 'website')).toBe('website')
    expect(projectButtons(buttons).website).toEqual(before)
    expect(trashButton(buttons, 'nobody', { at: 5 })).toBe(false)
  })

  it('keeps a deleted scenario’s entry; restoring it brings back its steps, whose document was kept', () => {
    const docs = demoDocs()
    updateScenario(docs.scenarios, 'support', { public: true })
    const before = projectScenarios(docs.scenarios).support
    expect(trashScenario(docs.scenarios, 'support', { at: 9, by: 'Ben' })).toBe(true)
    expect(projectScenarios(docs.scenarios).support).toBeUndefined()
    expect(listTrash(docs.scenarios)).toMatchObject([{ id: 'support', kind: 'scenario', deletedBy: 'Ben', scenario: { title: 'Support', enabled: true } }])
    expect(restoreScenario(docs.scenarios, 'support')).toBe('support')
    expect(projectScenarios(docs.scenarios).support).toEqual(before)
    expect(projectScenario(docs.scenarioDocs.get('support')!).stepOrder).toEqual(['topic', 'contact'])
  })

  it('is emptied for good, or one entry at a time; entries it cannot read are listed as nothing', () => {
    const { buttons } = demoDocs()
    trashButton(buttons, 'website', { at: 1 })
    trashButton(buttons, 'back', { at: 2 })
    trashRoot(buttons).set('odd', { kind: 'future-thing' })
    expect(listTrash(buttons).map((item) => item.id)).toEqual(['back', 'website'])
    expect(removeFromTrash(buttons, 'back')).toBe(true)
    expect(emptyTrash(buttons)).toBe(2)
    expect(listTrash(buttons)).toEqual([])
    expect(restoreButton(buttons, 'website')).toBeNull()
  })

  it('deletes and keeps in one transaction: another admin sees both at once', () => {
    const { scenarioDocs } = demoDocs()
    const doc = scenarioDocs.get('onboarding')!
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    trashStep(doc, 'finish', { at: 1 })
    expect(updates).toHaveLength(1)
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
    expect(listTrash(other).map((item) => item.id)).toEqual(['finish'])
  })
})

import { addKeyboardButton, createButton, getKeyboardRows, getStepMessage, projectButtons, setStepMessage, updateScenario } from '@botsync/shared-docs'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { edit } from '../src/lib/yjs/edit-origin.ts'
import { hasUndoHistory, UndoHistory } from '../src/lib/yjs/undo-history.svelte.ts'
import { link, LocalSource } from './local-source.ts'

describe('UndoHistory', () => {
  it('undoes only this user’s edits, not a concurrent edit by another admin', () => {
    const ana = LocalSource.seeded('demo').document('demo/scenario/onboarding').doc
    const ben = new Y.Doc()
    link(ana, ben)
    const history = new UndoHistory([ana.getMap('scenario')])

    const original = getStepMessage(ana, 'welcome')!.toString()
    edit(ana, () => setStepMessage(ana, 'welcome', `${original} [Ana]`))
    history.stopCapturing()
    // Ben edits another step, and also types into the same text.
    setStepMessage(ben, 'finish', 'Ben wrote this.')
    getStepMessage(ben, 'welcome')!.insert(0, '[Ben] ')
    expect(getStepMessage(ana, 'welcome')!.toString()).toBe(`[Ben] ${original} [Ana]`)
    expect(history.canUndo).toBe(true)

    expect(history.undo()).toBe(true)
    expect(getStepMessage(ana, 'welcome')!.toString()).toBe(`[Ben] ${original}`)
    expect(getStepMessage(ben, 'finish')!.toString()).toBe('Ben wrote this.')
    expect(history.canUndo).toBe(false)
    expect(history.canRedo).toBe(true)

    expect(history.redo()).toBe(true)
    expect(getStepMessage(ben, 'welcome')!.toString()).toBe(`[Ben] ${original} [Ana]`)
  })

  it('undoes across the documents of one page in the order the edits were made', () => {
    const source = LocalSource.seeded('demo')
    const content = source.document('demo/scenario/onboarding').doc
    const index = source.document('demo/scenarios').doc
    const history = new UndoHistory([content.getMap('scenario'), index.getMap('scenarios')])

    edit(index, () => updateScenario(index, 'onboarding', { title: 'First' }))
    history.stopCapturing()
    edit(content, () => setStepMessage(content, 'welcome', 'Second'))

    history.undo()
    expect(getStepMessage(content, 'welcome')!.toString()).not.toBe('Second')
    expect(index.getMap<Y.Map<unknown>>('scenarios').get('onboarding')!.get('title')).toBe('First')
    history.undo()
    expect(index.getMap<Y.Map<unknown>>('scenarios').get('onboarding')!.get('title')).toBe('Onboarding')
  })

  it('handles Ctrl+Z and Ctrl+Shift+Z, and leaves other keys alone', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    const history = new UndoHistory([text])
    edit(doc, () => text.insert(0, 'abc'))
    const key = (init: KeyboardEventInit) => new KeyboardEvent('keydown', { cancelable: true, ...init })

    expect(history.handleKey(key({ key: 'z' }))).toBe(false)
    const undo = key({ key: 'z', ctrlKey: true })
    expect(history.handleKey(undo)).toBe(true)
    expect(undo.defaultPrevented).toBe(true)
    expect(text.toString()).toBe('')
    expect(history.handleKey(key({ key: 'Z', ctrlKey: true, shiftKey: true }))).toBe(true)
    expect(text.toString()).toBe('abc')
    history.destroy()
  })

  it('keeps a document’s history after the page that made it is gone: the next page undoes it', () => {
    const source = LocalSource.seeded('demo')
    const content = source.document('demo/scenario/onboarding').doc
    const first = new UndoHistory([content.getMap('scenario')])
    expect(hasUndoHistory(content)).toBe(false)
    edit(content, () => setStepMessage(content, 'welcome', 'Before the page change'))
    expect(hasUndoHistory(content)).toBe(true)
    first.destroy()

    // Another page (the Buttons page, say) does not reach it…
    const buttons = source.document('demo/buttons').doc
    const other = new UndoHistory([buttons.getMap('buttons')])
    expect(other.canUndo).toBe(false)
    other.destroy()
    // …the scenario's page, opened again, does.
    const again = new UndoHistory([content.getMap('scenario')])
    expect(again.canUndo).toBe(true)
    expect(again.undo()).toBe(true)
    expect(getStepMessage(content, 'welcome')!.toString()).toBe("Hi! Let's get you set up. It takes less than a minute.")
    expect(again.redo()).toBe(true)
    expect(getStepMessage(content, 'welcome')!.toString()).toBe('Before the page change')
  })

  it('undoes a change of two documents made together as one step, and redoes it as one', () => {
    const source = LocalSource.seeded('demo')
    const content = source.document('demo/scenario/onboarding').doc
    const buttons = source.document('demo/buttons').doc
    const history = new UndoHistory([content.getMap('scenario'), buttons.getMap('buttons')])
    edit(content, () => setStepMessage(content, 'welcome', 'Earlier edit'))
    let id = ''
    history.together(() => {
      edit(buttons, () => (id = createButton(buttons, { text: 'Next', action: { type: 'end' } })))
      edit(content, () => addKeyboardButton(content, 'welcome', id))
    })
    expect(getKeyboardRows(content, 'welcome')).toEqual([['ob_continue'], ['ob_later'], [id]])

    expect(history.undo()).toBe(true)
    expect(projectButtons(buttons)[id]).toBeUndefined()
    expect(getKeyboardRows(content, 'welcome')).toEqual([['ob_continue'], ['ob_later']])
    // The edit before it is still there: one step back took back exactly the pair.
    expect(getStepMessage(content, 'welcome')!.toString()).toBe('Earlier edit')

    expect(history.redo()).toBe(true)
    expect(projectButtons(buttons)[id]?.text).toBe('Next')
    expect(getKeyboardRows(content, 'welcome')).toEqual([['ob_continue'], ['ob_later'], [id]])
  })
})

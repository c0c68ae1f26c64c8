import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { exportSpace, flowLayoutMap, getFlowPositions, projectScenario, projectSpace, removeStep, setFlowPosition, setFlowPositions, validateSpace } from '../src/index.ts'
import { demoDocs } from './helpers.ts'

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

describe('flow map layout', () => {
  it('stores whole-pixel positions per step and reads only the steps asked for', () => {
    const doc = demoDocs().scenarioDocs.get('onboarding')!
    expect(getFlowPositions(doc)).toEqual({})
    expect(setFlowPosition(doc, 'welcome', { x: 10.4, y: -20.6 })).toBe(true)
    setFlowPositions(doc, { ask_name: { x: 300, y: 0 }, finish: { x: 600, y: 40 } })
    expect(getFlowPositions(doc)).toEqual({ welcome: { x: 10, y: -21 }, ask_name: { x: 300, y: 0 }, finish: { x: 600, y: 40 } })
    expect(getFlowPositions(doc, ['finish', 'gone'])).toEqual({ finish: { x: 600, y: 40 } })
  })

  it('does not rewrite an unchanged position: no update, no undo step', () => {
    const doc = demoDocs().scenarioDocs.get('onboarding')!
    setFlowPosition(doc, 'welcome', { x: 1, y: 2 })
    let updates = 0
    doc.on('update', () => updates++)
    expect(setFlowPositions(doc, { welcome: { x: 1.2, y: 1.8 } })).toBe(0)
    expect(updates).toBe(0)
    expect(setFlowPositions(doc, { welcome: { x: 5, y: 2 }, finish: { x: 0, y: 0 } })).toBe(2)
    expect(updates).toBe(1)
  })

  it('refuses a malformed position or id and keeps what was stored', () => {
    const doc = demoDocs().scenarioDocs.get('onboarding')!
    setFlowPosition(doc, 'welcome', { x: 1, y: 2 })
    expect(() => setFlowPositions(doc, { finish: { x: 3, y: 4 }, welcome: { x: Number.NaN, y: 0 } })).toThrow(/Malformed map position/)
    expect(() => setFlowPosition(doc, 'welcome', { x: 1e9, y: 0 })).toThrow(/Malformed map position/)
    expect(() => setFlowPosition(doc, '__proto__', { x: 0, y: 0 })).toThrow(/Invalid step id/)
    expect(getFlowPositions(doc)).toEqual({ welcome: { x: 1, y: 2 } })
  })

  it('reads a malformed stored entry as no position', () => {
    const doc = demoDocs().scenarioDocs.get('onboarding')!
    flowLayoutMap(doc).set('welcome', { x: '1', y: 2 })
    flowLayoutMap(doc).set('finish', 7)
    flowLayoutMap(doc).set('ask_name', { x: 4, y: 5 })
    expect(getFlowPositions(doc, ['welcome', 'ask_name', 'finish'])).toEqual({ ask_name: { x: 4, y: 5 } })
  })

  it("keeps both admins' positions when each drags a step of an old scenario for the first time at once", () => {
    const seed = Y.encodeStateAsUpdate(demoDocs().scenarioDocs.get('onboarding')!)
    const ana = new Y.Doc()
    const ben = new Y.Doc()
    Y.applyUpdate(ana, seed)
    Y.applyUpdate(ben, seed)
    setFlowPosition(ana, 'welcome', { x: 100, y: 100 })
    setFlowPosition(ben, 'finish', { x: 700, y: 100 })
    sync(ana, ben)
    const both = { welcome: { x: 100, y: 100 }, finish: { x: 700, y: 100 } }
    expect(getFlowPositions(ana)).toEqual(both)
    expect(getFlowPositions(ben)).toEqual(both)
  })

  it('never changes what the bot, validation or an export read', () => {
    const docs = demoDocs()
    const doc = docs.scenarioDocs.get('onboarding')!
    const before = {
      space: projectSpace(docs),
      scenario: projectScenario(doc),
      problems: validateSpace(projectSpace(docs)),
      file: exportSpace({ space: { id: 'demo', name: 'Demo' }, docs, now: new Date(0) }),
    }
    setFlowPositions(doc, { welcome: { x: 0, y: 0 }, ask_name: { x: 320, y: 0 }, finish: { x: 640, y: 80 } })
    setFlowPosition(doc, 'welcome', { x: -50, y: 30 })
    expect(getFlowPositions(doc).welcome).toEqual({ x: -50, y: 30 })
    expect(projectSpace(docs)).toEqual(before.space)
    expect(projectScenario(doc)).toEqual(before.scenario)
    expect(validateSpace(projectSpace(docs))).toEqual(before.problems)
    expect(exportSpace({ space: { id: 'demo', name: 'Demo' }, docs, now: new Date(0) })).toEqual(before.file)
  })

  it("keeps a deleted step's position, so an undone delete puts it back where it was", () => {
    const doc = demoDocs().scenarioDocs.get('onboarding')!
    setFlowPosition(doc, 'finish', { x: 640, y: 80 })
    const undo = new Y.UndoManager([doc.getMap('scenario')])
    removeStep(doc, 'finish')
    expect(getFlowPositions(doc, Object.keys(projectScenario(doc).steps))).toEqual({})
    undo.undo()
    expect(getFlowPositions(doc, Object.keys(projectScenario(doc).steps))).toEqual({ finish: { x: 640, y: 80 } })
  })
})

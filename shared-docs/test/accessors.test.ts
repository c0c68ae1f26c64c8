import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  addKeyboardButton,
  addStep,
  createButton,
  createScenario,
  getButtonAction,
  getFlag,
  getKeyboardRows,
  getStepMessage,
  moveStep,
  projectButtons,
  projectScenario,
  projectScenarios,
  projectSettings,
  projectSpace,
  removeButton,
  removeKeyboardButton,
  removeScenario,
  removeStep,
  reorderScenarios,
  replaceText,
  setButton,
  setButtonText,
  setEntryStep,
  setFlag,
  setKeyboard,
  setMainMenu,
  setSettingsText,
  setStepInput,
  setStepMedia,
  setStepMessage,
  setStepNext,
  setTrigger,
  sortScenarios,
  updateScenario,
  validateSpace,
  type ButtonAction,
} from '../src/index.ts'

/** Two replicas kept in sync, to check how concurrent edits merge. */
function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

function copy(doc: Y.Doc): Y.Doc {
  const fresh = new Y.Doc()
  Y.applyUpdate(fresh, Y.encodeStateAsUpdate(doc))
  return fresh
}

function countUpdates(doc: Y.Doc): () => number {
  let n = 0
  doc.on('update', () => n++)
  return () => n
}

describe('settings accessors', () => {
  it('sets texts, flags and the main menu', () => {
    const doc = new Y.Doc()
    expect(getFlag(doc, 'botEnabled')).toBe(true)
    setSettingsText(doc, 'welcome', 'Hello')
    setSettingsText(doc, 'custom', 'Extra')
    setFlag(doc, 'botEnabled', false)
    setMainMenu(doc, [['a', 'b'], ['c']])
    expect(getFlag(doc, 'botEnabled')).toBe(false)
    expect(projectSettings(copy(doc))).toEqual({
      texts: { welcome: 'Hello', fallback: '', maintenance: '', inputInvalid: '', custom: 'Extra' },
      flags: { botEnabled: false },
      mainMenu: [['a', 'b'], ['c']],
      publicTexts: [],
    })
    setMainMenu(doc, [['c']])
    expect(projectSettings(doc).mainMenu).toEqual([['c']])
  })

  it('merges concurrent edits of one text instead of duplicating it', () => {
    const a = new Y.Doc()
    setSettingsText(a, 'welcome', 'Hello world')
    const b = copy(a)
    setSettingsText(a, 'welcome', 'Hi world')
    setSettingsText(b, 'welcome', 'Hello world!')
    sync(a, b)
    expect(projectSettings(a).texts.welcome).toBe('Hi world!')
    expect(projectSettings(b).texts.welcome).toBe('Hi world!')
  })

  it('merges edits of different main menu rows', () => {
    const a = new Y.Doc()
    setMainMenu(a, [['x'], ['y']])
    const b = copy(a)
    setMainMenu(a, [['x', 'x2'], ['y']])
    setMainMenu(b, [['x'], ['y', 'y2']])
    sync(a, b)
    expect(projectSettings(a).mainMenu).toEqual([
      ['x', 'x2'],
      ['y', 'y2'],
    ])
  })
})

describe('replaceText', () => {
  it('edits only the changed middle and never splits surrogate pairs', () => {
    const doc = new Y.Doc()
    const text = doc.getText('t')
    text.insert(0, 'a😀b')
    replaceText(text, 'a😃b') // same high surrogate, different low one
    expect(text.toString()).toBe('a😃b')
    replaceText(text, '😃')
    expect(text.toString()).toBe('😃')
    replaceText(text, '')
    expect(text.toString()).toBe('')
  })
})

describe('button accessors', () => {
  it('creates, updates in place and removes buttons', () => {
    const doc = new Y.Doc()
    setButton(doc, 'b1', { text: 'One', action: { type: 'url', url: 'https://a.example' } })
    const id = createButton(doc, { text: 'Two', action: { type: 'back' } })
    expect(id).toMatch(/^[A-Za-z0-9_-]{10}$/)
    const map = doc.getMap('buttons').get('b1')
    setButton(doc, 'b1', { text: 'Uno', action: { type: 'goto', scenarioId: 's', stepId: 'x' } })
    expect(doc.getMap('buttons').get('b1')).toBe(map) // same Y.Map, edited in place
    expect(projectButtons(copy(doc))).toEqual({
      b1: { id: 'b1', text: 'Uno', action: { type: 'goto', scenarioId: 's', stepId: 'x' } },
      [id]: { id, text: 'Two', action: { type: 'back' } },
    })
    expect(removeButton(doc, id)).toBe(true)
    expect(removeButton(doc, id)).toBe(false)
    expect(Object.keys(projectButtons(doc))).toEqual(['b1'])
  })

  it('keeps concurrent edits of text and action', () => {
    const a = new Y.Doc()
    setButton(a, 'b1', { text: 'One', action: { type: 'end' } })
    const b = copy(a)
    setButtonText(a, 'b1', 'Changed')
    setButton(b, 'b1', { text: 'One', action: { type: 'back' } })
    sync(a, b)
    expect(projectButtons(a).b1).toEqual({ id: 'b1', text: 'Changed', action: { type: 'back' } })
  })

  it('refuses malformed actions and ids, and does not alias the stored action', () => {
    const doc = new Y.Doc()
    expect(() => setButton(doc, 'b1', { text: 'x', action: { type: 'url' } as unknown as ButtonAction })).toThrow(TypeError)
    expect(() => setButton(doc, 'bad id', { text: 'x', action: { type: 'end' } })).toThrow(TypeError)
    const action: ButtonAction = { type: 'callback', data: 'a' }
    setButton(doc, 'b1', { text: 'x', action })
    ;(action as { data: string }).data = 'mutated'
    expect(getButtonAction(doc, 'b1')).toEqual({ type: 'callback', data: 'a' })
    expect(setButtonText(doc, 'missing', 'x')).toBe(false)
  })
})

describe('scenario accessors', () => {
  it('creates index entry and content, each in one transaction', () => {
    const index = new Y.Doc()
    const content = new Y.Doc()
    const indexUpdates = countUpdates(index)
    const contentUpdates = countUpdates(content)
    const { scenarioId, entryStepId } = createScenario(index, content, {
      title: 'Flow',
      trigger: { command: 'flow', text: '' },
      firstStep: { message: 'First', keyboard: { kind: 'reply', rows: [['b1']] } },
    })
    expect(indexUpdates()).toBe(1)
    expect(contentUpdates()).toBe(1)
    expect(projectScenarios(copy(index))).toEqual({
      [scenarioId]: { id: scenarioId, title: 'Flow', enabled: false, public: false, trigger: { command: 'flow' }, order: 0 },
    })
    expect(projectScenario(copy(content))).toEqual({
      entryStepId,
      steps: {
        [entryStepId]: { id: entryStepId, message: 'First', keyboard: { kind: 'reply', rows: [['b1']] }, input: null, next: null },
      },
      stepOrder: [entryStepId],
    })
    expect(() => createScenario(index, new Y.Doc(), { id: scenarioId, title: 'Again' })).toThrow(/already exists/)
  })

  it('adds a step with nested types in one transaction', () => {
    const doc = new Y.Doc()
    const updates = countUpdates(doc)
    const id = addStep(doc, { message: 'Hi', keyboard: { rows: [['a', 'b'], ['c']] }, input: { var: 'age', kind: 'number' } })
    expect(updates()).toBe(1)
    expect(getStepMessage(doc, id)).toBeInstanceOf(Y.Text)
    expect(getKeyboardRows(doc, id)).toEqual([['a', 'b'], ['c']])
    expect(projectScenario(doc).entryStepId).toBe(id) // the first step becomes the entry
  })

  it("sets, replaces and removes a step's media as one value", () => {
    const doc = new Y.Doc()
    const id = addStep(doc, { message: 'A caption' })
    const photo = { id: 'a'.repeat(64), kind: 'photo' as const }
    const video = { id: 'b'.repeat(64), kind: 'video' as const }
    expect(projectScenario(doc).steps[id].media).toBeUndefined()
    setStepMedia(doc, id, { items: [photo, video] })
    expect(projectScenario(doc).steps[id].media).toEqual({ items: [photo, video] })
    const updates = countUpdates(doc)
    setStepMedia(doc, id, { items: [photo, video] })
    expect(updates()).toBe(0) // an equal value is not written again
    expect(() => setStepMedia(doc, id, { items: [{ id: 'x.jpg', kind: 'photo' }] })).toThrow(/Malformed media item/)
    setStepMedia(doc, id, null)
    expect(projectScenario(doc).steps[id].media).toBeUndefined()
    // A stored value with a foreign item keeps the readable ones.
    ;(doc.getMap('scenario').get('steps') as Y.Map<Y.Map<unknown>>).get(id)!.set('media', { items: [photo, { id: 1, kind: 'sticker' }] })
    expect(projectScenario(doc).steps[id].media).toEqual({ items: [photo] })
  })

  it('edits, moves and removes steps; projection follows', () => {
    const index = new Y.Doc()
    const doc = new Y.Doc()
    createScenario(index, doc, { id: 'flow', title: 'Flow', enabled: true, firstStep: { id: 'one', message: 'One' } })
    addStep(doc, { id: 'two', message: 'Two' })
    addStep(doc, { id: 'three', message: 'Three' })
    addStep(doc, { id: 'zero', message: 'Zero', index: 0 })
    expect(projectScenario(doc).stepOrder).toEqual(['zero', 'one', 'two', 'three'])
    expect(moveStep(doc, 'zero', 3)).toBe(true)
    expect(moveStep(doc, 'three', 0)).toBe(true)
    expect(moveStep(doc, 'missing', 0)).toBe(false)
    expect(projectScenario(doc).stepOrder).toEqual(['three', 'one', 'two', 'zero'])

    expect(setStepNext(doc, 'one', 'two')).toBe(true)
    expect(setStepNext(doc, 'zero', 'one')).toBe(true)
    expect(setStepInput(doc, 'two', { var: 'email', kind: 'email' })).toBe(true)
    expect(setStepMessage(doc, 'two', 'Your email?')).toBe(true)
    expect(setKeyboard(doc, 'one', { kind: 'inline', rows: [['b1', 'b2']] })).toBe(true)
    expect(addKeyboardButton(doc, 'one', 'b3', 0)).toBe(true)
    expect(addKeyboardButton(doc, 'one', 'b4')).toBe(true)
    expect(removeKeyboardButton(doc, 'one', 'b2')).toBe(true)
    expect(removeKeyboardButton(doc, 'one', 'b4')).toBe(true) // its row becomes empty and goes
    expect(removeKeyboardButton(doc, 'one', 'nope')).toBe(false)
    expect(setEntryStep(doc, 'two')).toBe(true)
    expect(setEntryStep(doc, 'missing')).toBe(false)
    expect(() => setStepInput(doc, 'two', { var: 'x', kind: 'date' as 'text' })).toThrow(TypeError)

    let json = projectScenario(copy(doc))
    expect(json.entryStepId).toBe('two')
    expect(json.steps.one).toEqual({ id: 'one', message: 'One', keyboard: { kind: 'inline', rows: [['b1', 'b3']] }, input: null, next: 'two' })
    expect(json.steps.two).toEqual({
      id: 'two',
      message: 'Your email?',
      keyboard: { kind: 'inline', rows: [] },
      input: { var: 'email', kind: 'email' },
      next: null,
    })

    // Removing the entry step moves the entry to the first remaining step
    // and clears every `next` that pointed at it.
    expect(removeStep(doc, 'two')).toBe(true)
    expect(removeStep(doc, 'two')).toBe(false)
    json = projectScenario(copy(doc))
    expect(json.stepOrder).toEqual(['three', 'one', 'zero'])
    expect(json.entryStepId).toBe('three')
    expect(json.steps.one.next).toBeNull()
    expect(json.steps.zero.next).toBe('one')
  })

  it('updates index entries, triggers and order', () => {
    const index = new Y.Doc()
    createScenario(index, new Y.Doc(), { id: 'a', title: 'A', trigger: { command: 'a', text: 'hello' } })
    createScenario(index, new Y.Doc(), { id: 'b', title: 'B' })
    createScenario(index, new Y.Doc(), { id: 'c', title: 'C' })
    expect(sortScenarios(projectScenarios(index)).map((s) => s.id)).toEqual(['a', 'b', 'c'])
    reorderScenarios(index, ['c', 'a', 'b'])
    expect(sortScenarios(projectScenarios(index)).map((s) => s.id)).toEqual(['c', 'a', 'b'])
    expect(updateScenario(index, 'a', { title: 'Alpha', enabled: true })).toBe(true)
    expect(setTrigger(index, 'a', { deepLink: 'promo', text: null })).toBe(true)
    expect(projectScenarios(copy(index)).a).toEqual({
      id: 'a',
      title: 'Alpha',
      enabled: true,
      public: false,
      trigger: { command: 'a', deepLink: 'promo' },
      order: 1,
    })
    expect(removeScenario(index, 'b')).toBe(true)
    expect(updateScenario(index, 'b', { title: 'x' })).toBe(false)
    expect(Object.keys(projectScenarios(index)).sort()).toEqual(['a', 'c'])
  })
})

describe('projection', () => {
  it('gives defaults for empty documents', () => {
    const empty = (): Y.Doc => new Y.Doc()
    expect(projectSpace({ settings: empty(), buttons: empty(), scenarios: empty(), scenarioDocs: new Map() })).toEqual({
      settings: {
        texts: { welcome: '', fallback: '', maintenance: '', inputInvalid: '' },
        flags: { botEnabled: true },
        mainMenu: [],
        publicTexts: [],
      },
      buttons: {},
      scenarios: {},
      scenarioDocs: {},
    })
    expect(projectScenario(empty())).toEqual({ entryStepId: '', steps: {}, stepOrder: [] })
  })

  it('tolerates partial and malformed maps without throwing', () => {
    const settings = new Y.Doc()
    settings.getMap('settings').set('texts', 'not a map')
    settings.getMap('settings').set('mainMenu', new Y.Array())
    ;(settings.getMap('settings').get('mainMenu') as Y.Array<unknown>).push(['junk', new Y.Array()])
    expect(projectSettings(settings).mainMenu).toEqual([[], []])

    const buttons = new Y.Doc()
    const root = buttons.getMap<unknown>('buttons')
    root.set('plain', 'not a map')
    root.set('__proto__', new Y.Map())
    root.set('bad id!', new Y.Map())
    const half = new Y.Map<unknown>()
    root.set('half', half)
    half.set('action', { type: 'teleport' })
    const projected = projectButtons(buttons)
    expect(Object.keys(projected)).toEqual(['half'])
    expect(projected.half).toEqual({ id: 'half', text: '', action: null })
    expect(Object.getPrototypeOf(projected)).toBe(Object.prototype)

    const scenario = new Y.Doc()
    const sroot = scenario.getMap<unknown>('scenario')
    const steps = new Y.Map<unknown>()
    sroot.set('steps', steps)
    steps.set('bare', new Y.Map())
    const other = new Y.Map<unknown>()
    steps.set('other', other)
    other.set('keyboard', new Y.Map())
    ;(other.get('keyboard') as Y.Map<unknown>).set('kind', 'weird')
    other.set('input', { var: 'x', kind: 'weird' })
    const order = new Y.Array<string>()
    sroot.set('stepOrder', order)
    order.push(['other', 'ghost', 'other'])
    expect(projectScenario(scenario)).toEqual({
      entryStepId: '',
      steps: {
        bare: { id: 'bare', message: '', keyboard: { kind: 'inline', rows: [] }, input: null, next: null },
        other: { id: 'other', message: '', keyboard: { kind: 'inline', rows: [] }, input: { var: 'x', kind: 'text' }, next: null },
      },
      // Deduplicated, the dangling id dropped, the unlisted step appended.
      stepOrder: ['other', 'bare'],
    })
  })

  it('round-trips a space built with the accessors and validates it', () => {
    const settings = new Y.Doc()
    const buttons = new Y.Doc()
    const scenarios = new Y.Doc()
    const flow = new Y.Doc()
    setSettingsText(settings, 'welcome', 'Welcome!')
    setSettingsText(settings, 'fallback', 'Eh?')
    setSettingsText(settings, 'maintenance', 'Later.')
    setSettingsText(settings, 'inputInvalid', 'Again.')
    setMainMenu(settings, [['go']])
    setButton(buttons, 'go', { text: 'Go', action: { type: 'goto', scenarioId: 'flow' } })
    setButton(buttons, 'ask', { text: 'Ask', action: { type: 'goto', scenarioId: 'flow', stepId: 'ask' } })
    createScenario(scenarios, flow, {
      id: 'flow',
      title: 'Flow',
      enabled: true,
      trigger: { command: 'flow' },
      firstStep: { id: 'hello', message: 'Hello', keyboard: { kind: 'inline', rows: [['ask']] } },
    })
    addStep(flow, { id: 'ask', message: 'Name?', input: { var: 'name', kind: 'text' } })
    setStepNext(flow, 'hello', 'ask')

    const docs = { settings, buttons, scenarios, scenarioDocs: new Map([['flow', flow]]) }
    const local = projectSpace(docs)
    const remote = projectSpace({
      settings: copy(settings),
      buttons: copy(buttons),
      scenarios: copy(scenarios),
      scenarioDocs: new Map([['flow', copy(flow)]]),
    })
    expect(remote).toEqual(local)
    expect(JSON.parse(JSON.stringify(remote))).toEqual(remote)
    expect(validateSpace(remote)).toEqual([])

    // Deleting a step that a button targets is reported, not hidden.
    removeStep(flow, 'ask')
    expect(validateSpace(projectSpace(docs)).map((p) => [p.document, p.path.join('.'), p.code])).toEqual([['buttons', 'buttons.ask.action.stepId', 'goto-step-missing']])
  })
})

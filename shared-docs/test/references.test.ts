import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  buttonReferences,
  buttonsGoingTo,
  countReferences,
  getKeyboardRows,
  projectButtons,
  projectScenario,
  projectSettings,
  projectSpace,
  replaceButtonInKeyboards,
  replaceButtonInMainMenu,
  retargetButtonsToScenario,
  retargetButtonsToStep,
  retargetStepLinks,
  scenarioReferences,
  setButton,
  setStepNext,
  stepReferences,
} from '../src/index.ts'
import { demoDocs } from './helpers.ts'

describe('references', () => {
  it('finds every keyboard and the main menu that show a button, once per step', () => {
    const docs = demoDocs()
    const space = projectSpace(docs)
    expect(buttonReferences(space, 'support')).toEqual([{ kind: 'keyboard', scenarioId: 'onboarding', stepId: 'finish' }, { kind: 'main-menu' }])
    expect(buttonReferences(space, 'ob_continue')).toEqual([{ kind: 'keyboard', scenarioId: 'onboarding', stepId: 'welcome' }])
    expect(buttonReferences(space, 'nobody')).toEqual([])
    // Listed twice in one keyboard: still one step.
    space.scenarioDocs.onboarding.steps.welcome.keyboard.rows = [['ob_continue', 'ob_continue'], ['ob_continue']]
    expect(buttonReferences(space, 'ob_continue')).toHaveLength(1)
  })

  it('finds the buttons and steps that lead to a step, and the entry', () => {
    const space = projectSpace(demoDocs())
    expect(stepReferences(space, 'support', 'contact')).toEqual([
      { kind: 'button', buttonId: 'sup_billing' },
      { kind: 'button', buttonId: 'sup_tech' },
    ])
    expect(stepReferences(space, 'onboarding', 'finish')).toEqual([{ kind: 'next', scenarioId: 'onboarding', stepId: 'ask_name' }])
    // "Get started" goes to the scenario without naming a step: it reaches welcome through the entry.
    expect(stepReferences(space, 'onboarding', 'welcome')).toEqual([{ kind: 'entry', scenarioId: 'onboarding' }])
    // A button of another scenario's step with the same id is not a reference.
    space.buttons.x = { id: 'x', text: 'X', action: { type: 'goto', scenarioId: 'support', stepId: 'finish' } }
    expect(stepReferences(space, 'onboarding', 'finish')).toHaveLength(1)
    expect(countReferences(stepReferences(space, 'support', 'contact'))).toEqual({ buttons: 2, steps: 0, mainMenu: false, entry: false })
  })

  it('finds the buttons that go to a scenario, to its start or to one of its steps', () => {
    const space = projectSpace(demoDocs())
    expect(scenarioReferences(space, 'support')).toEqual([
      { kind: 'button', buttonId: 'sup_billing' },
      { kind: 'button', buttonId: 'sup_tech' },
      { kind: 'button', buttonId: 'support' },
    ])
    expect(scenarioReferences(space, 'gone')).toEqual([])
  })

  it('retargets buttons and steps to another step, or to the scenario start', () => {
    const docs = demoDocs()
    expect(retargetButtonsToStep(docs.buttons, 'support', 'contact', 'topic')).toBe(2)
    expect(projectButtons(docs.buttons).sup_billing.action).toEqual({ type: 'goto', scenarioId: 'support', stepId: 'topic' })
    expect(retargetButtonsToStep(docs.buttons, 'support', 'topic', null)).toBe(2)
    expect(projectButtons(docs.buttons).sup_tech.action).toEqual({ type: 'goto', scenarioId: 'support' })
    // Buttons going elsewhere are untouched.
    expect(projectButtons(docs.buttons).ob_continue.action).toEqual({ type: 'goto', scenarioId: 'onboarding', stepId: 'ask_name' })

    const onboarding = docs.scenarioDocs.get('onboarding')!
    setStepNext(onboarding, 'welcome', 'finish')
    expect(retargetStepLinks(onboarding, 'finish', 'ask_name')).toBe(2)
    expect(projectScenario(onboarding).steps.welcome.next).toBe('ask_name')
    // ask_name continued with finish; now with itself would be a loop, which the caller's choice made: kept as asked.
    expect(projectScenario(onboarding).steps.ask_name.next).toBe('ask_name')
    // The entry moves to the chosen step.
    expect(retargetStepLinks(onboarding, 'welcome', 'finish')).toBe(1)
    expect(projectScenario(onboarding).entryStepId).toBe('finish')
    // null: the steps end instead (a step's own next to itself is not a link from another step), and the entry is left alone.
    expect(retargetStepLinks(onboarding, 'ask_name', null)).toBe(1)
    expect(projectScenario(onboarding).steps.welcome.next).toBeNull()
  })

  it('retargets the buttons of a deleted scenario to another one, and lists them', () => {
    const docs = demoDocs()
    expect(buttonsGoingTo(docs.buttons, 'support')).toEqual(['sup_billing', 'sup_tech', 'support'])
    expect(retargetButtonsToScenario(docs.buttons, 'support', 'onboarding')).toBe(3)
    expect(projectButtons(docs.buttons).sup_billing.action).toEqual({ type: 'goto', scenarioId: 'onboarding' })
    expect(buttonsGoingTo(docs.buttons, 'support')).toEqual([])
  })

  it('replaces or removes a button in keyboards and the main menu, dropping rows left empty', () => {
    const docs = demoDocs()
    setButton(docs.buttons, 'other', { text: 'Other', action: { type: 'end' } })
    const onboarding = docs.scenarioDocs.get('onboarding')!
    expect(replaceButtonInKeyboards(onboarding, 'support', 'other')).toEqual(['finish'])
    expect(getKeyboardRows(onboarding, 'finish')).toEqual([['other', 'website']])
    expect(replaceButtonInKeyboards(onboarding, 'ob_later', null)).toEqual(['welcome'])
    expect(getKeyboardRows(onboarding, 'welcome')).toEqual([['ob_continue']])
    expect(replaceButtonInMainMenu(docs.settings, 'start', null)).toBe(true)
    expect(replaceButtonInMainMenu(docs.settings, 'website', 'other')).toBe(true)
    expect(projectSettings(docs.settings).mainMenu).toEqual([['support', 'other']])
    expect(replaceButtonInMainMenu(docs.settings, 'nobody', null)).toBe(false)
  })

  it('changes only the cells that hold the button, so a concurrent edit of another cell survives', () => {
    const docs = demoDocs()
    const onboarding = docs.scenarioDocs.get('onboarding')!
    const other = new Y.Doc()
    Y.applyUpdate(other, Y.encodeStateAsUpdate(onboarding))
    replaceButtonInKeyboards(onboarding, 'support', null)
    // Meanwhile another admin appends a button to the same row.
    const row = (other.getMap('scenario').get('steps') as Y.Map<Y.Map<unknown>>).get('finish')!.get('keyboard') as Y.Map<unknown>
    ;((row.get('rows') as Y.Array<Y.Array<string>>).get(0) as Y.Array<string>).push(['back'])
    Y.applyUpdate(onboarding, Y.encodeStateAsUpdate(other))
    Y.applyUpdate(other, Y.encodeStateAsUpdate(onboarding))
    expect(getKeyboardRows(onboarding, 'finish')).toEqual([['website', 'back']])
    expect(getKeyboardRows(other, 'finish')).toEqual([['website', 'back']])
  })
})

import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  addStep,
  applyImport,
  exportSpace,
  initScenarioDoc,
  LIMITS,
  projectScenario,
  setStepTitle,
  stepTitle,
  stepTitles,
  UNTITLED_STEP,
  validateScenario,
  type SpaceExport,
} from '../src/index.ts'
import { demoDocs, step } from './helpers.ts'

describe('step titles', () => {
  it('names a step by its title, else by the first words of its first line, never by its id', () => {
    expect(stepTitle({ title: '  Ask the name ', message: 'What is your name?' })).toBe('Ask the name')
    expect(stepTitle({ message: '\n  What is your name?\nSecond line' })).toBe('What is your name?')
    expect(stepTitle({ message: 'One two three four five six seven eight' })).toBe('One two three four five six…')
    expect(stepTitle({ message: 'Привет, {name}! Как дела?' })).toBe('Привет, {name}! Как дела?')
    expect(stepTitle({ message: '' })).toBe(UNTITLED_STEP)
    expect(stepTitle({ title: '   ', message: '  ' })).toBe(UNTITLED_STEP)
  })

  it('cuts a long first word between code points, never inside an emoji', () => {
    const title = stepTitle({ message: `${'a'.repeat(39)}👍🏽${'b'.repeat(10)}` })
    expect(title).toBe(`${'a'.repeat(39)}\u{1F44D}…`)
    expect(/[\uD800-\uDBFF]$/.test(title.slice(0, -1))).toBe(false)
  })

  it('gives steps that read alike their position, so pickers never offer two identical choices', () => {
    const scenario = {
      steps: { a: step('a', { message: 'Thanks!' }), b: step('b', { title: 'Ask' }), c: step('c', { message: 'Thanks!' }) },
      stepOrder: ['b', 'a', 'c'],
    }
    expect(stepTitles(scenario)).toEqual({ b: 'Ask', a: 'Thanks! (2)', c: 'Thanks! (3)' })
  })

  it('stores a title in the document, trims it, and an empty one removes it', () => {
    const doc = new Y.Doc()
    initScenarioDoc(doc)
    const id = addStep(doc, { title: ' Greeting ', message: 'Hi' })
    expect(projectScenario(doc).steps[id].title).toBe('Greeting')
    let updates = 0
    doc.on('update', () => updates++)
    setStepTitle(doc, id, 'Greeting')
    expect(updates).toBe(0)
    setStepTitle(doc, id, 'Welcome')
    expect(projectScenario(doc).steps[id].title).toBe('Welcome')
    setStepTitle(doc, id, '  ')
    expect(projectScenario(doc).steps[id]).not.toHaveProperty('title')
    expect(setStepTitle(doc, 'nope', 'x')).toBe(false)
  })

  it('travels through an export and back, and an import removes a title the file does not have', () => {
    const docs = demoDocs()
    const space = { id: 'demo', name: 'Demo' }
    const now = new Date('2026-12-01T00:00:00Z')
    const file = JSON.parse(JSON.stringify(exportSpace({ space, docs, now }))) as SpaceExport
    const onboarding = file.content.scenarios.find((s) => s.id === 'onboarding')!
    onboarding.steps[0].title = 'Greeting'
    applyImport(docs, file, () => new Y.Doc())
    expect(projectScenario(docs.scenarioDocs.get('onboarding')!).steps[onboarding.steps[0].id].title).toBe('Greeting')
    expect(exportSpace({ space, docs, now })).toEqual(file)
    delete onboarding.steps[0].title
    applyImport(docs, file, () => new Y.Doc())
    expect(projectScenario(docs.scenarioDocs.get('onboarding')!).steps[onboarding.steps[0].id]).not.toHaveProperty('title')
  })

  it('validation refuses a title over the limit', () => {
    const scenario = { entryStepId: 'a', steps: { a: step('a', { title: 'x'.repeat(LIMITS.stepTitle + 1) }) }, stepOrder: ['a'] }
    expect(validateScenario('s', scenario).map((p) => p.code)).toEqual(['step-title-too-long'])
    scenario.steps.a.title = 'x'.repeat(LIMITS.stepTitle)
    expect(validateScenario('s', scenario)).toEqual([])
  })
})

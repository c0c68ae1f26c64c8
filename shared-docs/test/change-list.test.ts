import { describe, expect, it } from 'vitest'
import { countChanges, diffSpaces, projectSpace, wordDiff, type SpaceJson } from '../src/index.ts'
import { demoDocs } from './helpers.ts'

function demoSpace(): SpaceJson {
  return projectSpace(demoDocs())
}

const copy = (space: SpaceJson): SpaceJson => structuredClone(space)

describe('word diff', () => {
  it.each([
    ['Hello dear world', 'Hello wide world'],
    ['Привет, мир! Как дела?', 'Привет, мир 🌍! Как твои дела?'],
    ['line one\nline two', 'line one\n\nline three and more'],
    ['', 'from nothing'],
    ['e\u0301te\u0301 👩‍👩‍👧', 'e\u0301te\u0301 👩‍👩‍👧 plus'],
  ])('rebuilds both texts from its parts: %j → %j', (a, b) => {
    const parts = wordDiff(a, b)
    expect(
      parts
        .filter((p) => p.op !== 'added')
        .map((p) => p.text)
        .join(''),
    ).toBe(a)
    expect(
      parts
        .filter((p) => p.op !== 'removed')
        .map((p) => p.text)
        .join(''),
    ).toBe(b)
    // Adjacent parts never share an op.
    for (let i = 1; i < parts.length; i++) expect(parts[i].op).not.toBe(parts[i - 1].op)
  })

  it('marks only the words that changed', () => {
    expect(wordDiff('Welcome to the bot', 'Welcome to the new bot')).toEqual([
      { op: 'same', text: 'Welcome to the ' },
      { op: 'added', text: 'new ' },
      { op: 'same', text: 'bot' },
    ])
  })
})

describe('change list', () => {
  it('is empty between two equal spaces', () => {
    expect(diffSpaces(demoSpace(), demoSpace())).toEqual([])
    expect(countChanges(demoSpace(), demoSpace())).toBe(0)
  })

  it('names each changed entity with its kind, document and a word diff for texts', () => {
    const before = demoSpace()
    const after = copy(before)
    after.settings.texts.welcome = `${before.settings.texts.welcome} Now with more.`
    after.settings.flags.botEnabled = false
    after.scenarios.support.title = 'Help desk'
    after.scenarios.onboarding.enabled = false
    const onboarding = after.scenarioDocs.onboarding
    onboarding.steps.welcome.message = 'Hi there, new friend'
    onboarding.steps.finish.next = 'welcome'
    onboarding.stepOrder = [...onboarding.stepOrder].reverse()
    delete after.buttons.website
    const changes = diffSpaces(before, after)
    const kinds = changes.map((c) => [c.kind, c.document])
    expect(kinds).toEqual(
      expect.arrayContaining([
        ['settings-text-changed', 'settings'],
        ['settings-changed', 'settings'],
        ['button-removed', 'buttons'],
        ['scenario-renamed', 'scenarios'],
        ['scenario-disabled', 'scenarios'],
        ['message-changed', 'scenario/onboarding'],
        ['next-changed', 'scenario/onboarding'],
        ['steps-reordered', 'scenario/onboarding'],
      ]),
    )
    expect(changes).toHaveLength(kinds.length)
    const welcome = changes.find((c) => c.kind === 'settings-text-changed')!
    expect(welcome.key).toBe('welcome')
    expect(welcome.diff).toContainEqual({ op: 'added', text: expect.stringContaining('more.') })
    const message = changes.find((c) => c.kind === 'message-changed')!
    expect(message.stepId).toBe('welcome')
    expect(message.summary).not.toContain('welcome"')
    expect(message.diff?.some((p) => p.op === 'removed')).toBe(true)
    // Settings come first, then buttons, then scenarios.
    expect(changes[0].document).toBe('settings')
    expect(countChanges(before, after)).toBe(changes.length)
  })

  it('reports added and removed scenarios and steps', () => {
    const before = demoSpace()
    const after = copy(before)
    delete after.scenarios.support
    delete after.scenarioDocs.support
    const steps = after.scenarioDocs.onboarding
    steps.steps.extra = { id: 'extra', message: 'One more step', keyboard: { kind: 'inline', rows: [] }, input: null, next: null }
    steps.stepOrder = [...steps.stepOrder, 'extra']
    const kinds = diffSpaces(before, after).map((c) => c.kind)
    expect(kinds).toContain('scenario-removed')
    expect(kinds).toContain('step-added')
    expect(diffSpaces(after, before).map((c) => c.kind)).toEqual(expect.arrayContaining(['scenario-added', 'step-removed']))
  })

  it('reports a renamed step by its names, and names steps by their titles', () => {
    const before = demoSpace()
    const after = copy(before)
    after.scenarioDocs.onboarding.steps.ask_name.title = 'Ask the name'
    expect(diffSpaces(before, after).map((c) => [c.kind, c.summary, c.before, c.after])).toEqual([
      ['step-renamed', 'Step "What should I call you?" in "Onboarding" renamed to "Ask the name"', null, 'Ask the name'],
    ])
    const edited = copy(after)
    edited.scenarioDocs.onboarding.steps.ask_name.message = 'Your name?'
    expect(diffSpaces(after, edited).map((c) => c.summary)).toEqual(['Message of step "Ask the name" in "Onboarding" changed'])
  })
})

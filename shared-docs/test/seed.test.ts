import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  demoSeed,
  parseDocumentName,
  projectActivity,
  projectScenario,
  projectSpace,
  seedDocumentNames,
  skeletonDocumentNames,
  spaceSkeleton,
  validateSpace,
  type SpaceJson,
} from '../src/index.ts'

function load(updates: Map<string, Uint8Array>, ...more: Map<string, Uint8Array>[]): Map<string, Y.Doc> {
  const docs = new Map<string, Y.Doc>()
  for (const source of [updates, ...more]) {
    for (const [name, update] of source) {
      if (!docs.has(name)) docs.set(name, new Y.Doc())
      Y.applyUpdate(docs.get(name)!, update)
    }
  }
  return docs
}

function spaceOf(docs: Map<string, Y.Doc>, space = 'demo'): SpaceJson {
  const scenarioDocs = new Map<string, Y.Doc>()
  for (const [name, doc] of docs) {
    const parsed = parseDocumentName(name)
    if (parsed?.kind === 'scenario') scenarioDocs.set(parsed.scenarioId!, doc)
  }
  return projectSpace({
    settings: docs.get(`${space}/settings`)!,
    buttons: docs.get(`${space}/buttons`)!,
    scenarios: docs.get(`${space}/scenarios`)!,
    scenarioDocs,
  })
}

describe('demo seed', () => {
  it('is byte-identical across calls', () => {
    const a = demoSeed()
    const b = demoSeed()
    expect([...a.keys()]).toEqual([...b.keys()])
    for (const [name, update] of a) {
      expect(update.length).toBeGreaterThan(0)
      expect(Buffer.from(b.get(name)!).equals(Buffer.from(update)), name).toBe(true)
    }
  })

  it('names exactly the documents it produces, all parseable', () => {
    expect([...demoSeed('acme').keys()]).toEqual(seedDocumentNames('acme'))
    for (const name of seedDocumentNames('acme')) expect(parseDocumentName(name)?.space).toBe('acme')
  })

  it('validates with zero problems', () => {
    const space = spaceOf(load(demoSeed()))
    expect(validateSpace(space)).toEqual([])
  })

  it('has the promised content', () => {
    const space = spaceOf(load(demoSeed()))
    expect(space.settings.flags.botEnabled).toBe(true)
    for (const key of ['welcome', 'fallback', 'maintenance', 'inputInvalid']) expect(space.settings.texts[key]).not.toBe('')
    expect(space.settings.mainMenu.flat()).toHaveLength(3)
    expect(space.settings.mainMenu.flat().map((id) => space.buttons[id].action)).toEqual([
      { type: 'goto', scenarioId: 'onboarding' },
      { type: 'goto', scenarioId: 'support' },
      { type: 'url', url: 'https://example.com' },
    ])
    expect(space.scenarios.onboarding.trigger).toEqual({ command: 'onboarding', deepLink: 'onboarding' })
    expect(space.scenarios.support.trigger).toEqual({ command: 'support', text: 'help' })
    const onboarding = space.scenarioDocs.onboarding
    expect(onboarding.stepOrder).toHaveLength(3)
    expect(onboarding.entryStepId).toBe(onboarding.stepOrder[0])
    expect(onboarding.steps[onboarding.stepOrder[0]].keyboard.rows.flat().length).toBeGreaterThan(0)
    const ask = onboarding.steps[onboarding.stepOrder[1]]
    expect(ask.input).toEqual({ var: 'name', kind: 'text' })
    expect(ask.next).toBe(onboarding.stepOrder[2])
    expect(onboarding.steps[onboarding.stepOrder[2]].message).toContain('{name}')
    expect(space.scenarioDocs.support.stepOrder).toHaveLength(2)
    expect(space.scenarioDocs.support.steps[space.scenarioDocs.support.entryStepId].keyboard.rows.flat().length).toBeGreaterThan(0)
  })

  it('does not duplicate content when applied twice', () => {
    const once = load(demoSeed())
    const twice = load(demoSeed(), demoSeed())
    expect(spaceOf(twice)).toEqual(spaceOf(once))
    for (const [name, doc] of twice) {
      expect(Buffer.from(Y.encodeStateAsUpdate(doc)).equals(Buffer.from(Y.encodeStateAsUpdate(once.get(name)!))), name).toBe(true)
    }
    expect(spaceOf(twice).settings.texts.welcome).toBe(spaceOf(once).settings.texts.welcome)
  })

  it('merges with the empty skeleton of the same space without conflict', () => {
    const once = load(demoSeed())
    const both = load(spaceSkeleton('demo'), demoSeed())
    expect(spaceOf(both)).toEqual(spaceOf(once))
    expect(projectActivity(both.get('demo/activity')!)).toEqual({ counters: {}, events: [] })
  })

  it('keeps edits made after seeding when the seed is applied again', () => {
    const docs = load(demoSeed())
    const onboarding = docs.get('demo/scenario/onboarding')!
    const root = onboarding.getMap('scenario')
    ;((root.get('steps') as Y.Map<Y.Map<unknown>>).get('finish')!.get('message') as Y.Text).insert(0, 'Edited. ')
    for (const [name, update] of demoSeed()) Y.applyUpdate(docs.get(name)!, update)
    expect(projectScenario(onboarding).steps.finish.message.startsWith('Edited. Nice to meet you')).toBe(true)
    expect(projectScenario(onboarding).stepOrder).toHaveLength(3)
  })

  it('builds an empty but well-formed skeleton for a new space', () => {
    const skeleton = spaceSkeleton('fresh')
    expect([...skeleton.keys()]).toEqual(skeletonDocumentNames('fresh'))
    const docs = load(skeleton)
    const settings = docs.get('fresh/settings')!.getMap('settings')
    expect(settings.get('texts')).toBeInstanceOf(Y.Map)
    expect(settings.get('mainMenu')).toBeInstanceOf(Y.Array)
    expect((settings.get('flags') as Y.Map<boolean>).get('botEnabled')).toBe(true)
    expect(docs.get('fresh/activity')!.getMap('activity').get('events')).toBeInstanceOf(Y.Array)
  })
})

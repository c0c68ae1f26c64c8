import * as Y from 'yjs'
import { demoSeed, type ButtonJson, type ScenarioJson, type SpaceDocs, type SpaceJson, type StepJson } from '../src/index.ts'

/** The demo space's documents, loaded from the deterministic seed. */
export function demoDocs(): SpaceDocs {
  const seed = demoSeed('demo')
  const load = (name: string) => {
    const doc = new Y.Doc()
    Y.applyUpdate(doc, seed.get(name)!)
    return doc
  }
  return {
    settings: load('demo/settings'),
    buttons: load('demo/buttons'),
    scenarios: load('demo/scenarios'),
    scenarioDocs: new Map([
      ['onboarding', load('demo/scenario/onboarding')],
      ['support', load('demo/scenario/support')],
    ]),
  }
}

export function step(id: string, patch: Partial<StepJson> = {}): StepJson {
  return { id, message: `Message of ${id}`, keyboard: { kind: 'inline', rows: [] }, input: null, next: null, ...patch }
}

export function button(id: string, patch: Partial<ButtonJson> = {}): ButtonJson {
  return { id, text: `Button ${id}`, action: { type: 'end' }, ...patch }
}

/** A small space with zero problems, to break one thing at a time. */
export function validSpace(): SpaceJson {
  const s1: ScenarioJson = {
    entryStepId: 'st1',
    steps: {
      st1: step('st1', { keyboard: { kind: 'inline', rows: [['b1', 'b2']] }, next: 'st2' }),
      st2: step('st2', { input: { var: 'name', kind: 'text' } }),
    },
    stepOrder: ['st1', 'st2'],
  }
  return {
    settings: {
      texts: { welcome: 'Hi', fallback: 'Sorry', maintenance: 'Later', inputInvalid: 'Again' },
      flags: { botEnabled: true },
      mainMenu: [['b1']],
      publicTexts: [],
    },
    buttons: {
      b1: button('b1', { action: { type: 'callback', data: 'x' } }),
      b2: button('b2', { action: { type: 'goto', scenarioId: 's1', stepId: 'st2' } }),
    },
    scenarios: {
      s1: { id: 's1', title: 'S1', enabled: true, public: false, trigger: { command: 'go', deepLink: 'go' }, order: 0 },
    },
    scenarioDocs: { s1 },
  }
}

/** Buttons b0..b(n-1) with end actions, added to the space. */
export function addButtons(space: SpaceJson, n: number): string[] {
  const ids = Array.from({ length: n }, (_, i) => `k${i}`)
  for (const id of ids) space.buttons[id] = button(id)
  return ids
}

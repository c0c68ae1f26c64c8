// Deterministic seeds, applied by the server only (a client seeding would
// duplicate content on every device).
//
// Every Y.Doc here gets a fixed clientID before its first edit, so the same
// call always yields byte-identical updates. Yjs identifies each edit by
// (clientID, clock): applying a seed twice, or two server instances seeding
// the same document at once, therefore merges into one copy, not two.
//
// Two ids are used: SKELETON for the empty structure (texts, flags, maps),
// DEMO for demo content. The demo seed starts with exactly the skeleton's
// edits, so applying spaceSkeleton() and demoSeed() to the same document is
// consistent; reusing one (clientID, clock) for different edits would corrupt it.
import * as Y from 'yjs'
import { initActivityDoc } from './activity.ts'
import { setButton } from './buttons.ts'
import { docName } from './names.ts'
import { addStep } from './scenario.ts'
import { createScenario } from './scenarios.ts'
import { initSettingsDoc, setFlag, setMainMenu, setSettingsText } from './settings.ts'

export const SEED_CLIENT_IDS = Object.freeze({ skeleton: 1, demo: 2 })

function skeletonDocs(): { settings: Y.Doc; buttons: Y.Doc; scenarios: Y.Doc; activity: Y.Doc } {
  const make = (): Y.Doc => {
    const doc = new Y.Doc()
    doc.clientID = SEED_CLIENT_IDS.skeleton
    return doc
  }
  const settings = make()
  initSettingsDoc(settings)
  const activity = make()
  initActivityDoc(activity)
  // buttons and scenarios have only a root map, which needs no edit.
  return { settings, buttons: make(), scenarios: make(), activity }
}

/** Names of the documents spaceSkeleton() produces. */
export function skeletonDocumentNames(space: string): string[] {
  return [docName.settings(space), docName.buttons(space), docName.scenarios(space), docName.activity(space)]
}

/** The empty structure of a new space: settings texts/flags/menu and activity maps. */
export function spaceSkeleton(space: string): Map<string, Uint8Array> {
  const docs = skeletonDocs()
  return new Map([
    [docName.settings(space), Y.encodeStateAsUpdate(docs.settings)],
    [docName.buttons(space), Y.encodeStateAsUpdate(docs.buttons)],
    [docName.scenarios(space), Y.encodeStateAsUpdate(docs.scenarios)],
    [docName.activity(space), Y.encodeStateAsUpdate(docs.activity)],
  ])
}

/** Names of the documents demoSeed() produces, in a stable order. */
export function seedDocumentNames(space = 'demo'): string[] {
  return [
    docName.settings(space),
    docName.buttons(space),
    docName.scenarios(space),
    docName.scenario(space, 'onboarding'),
    docName.scenario(space, 'support'),
    docName.activity(space),
  ]
}

/** The demo space: name → Y.encodeStateAsUpdate of that document. */
export function demoSeed(space = 'demo'): Map<string, Uint8Array> {
  const { settings, buttons, scenarios, activity } = skeletonDocs()
  const newDemoDoc = (): Y.Doc => {
    const doc = new Y.Doc()
    doc.clientID = SEED_CLIENT_IDS.demo
    return doc
  }
  for (const doc of [settings, buttons, scenarios]) doc.clientID = SEED_CLIENT_IDS.demo

  setSettingsText(settings, 'welcome', 'Welcome to the botsync demo bot! Pick an option below.')
  setSettingsText(settings, 'fallback', "Sorry, I didn't get that. Send /start to see the menu.")
  setSettingsText(settings, 'maintenance', 'The bot is under maintenance right now. Please try again later.')
  setSettingsText(settings, 'inputInvalid', "That doesn't look right. Please try again.")
  setFlag(settings, 'botEnabled', true)
  setMainMenu(settings, [['start'], ['support', 'website']])

  setButton(buttons, 'start', { text: 'Get started', action: { type: 'goto', scenarioId: 'onboarding' } })
  setButton(buttons, 'support', { text: 'Support', action: { type: 'goto', scenarioId: 'support' } })
  setButton(buttons, 'website', { text: 'Website', action: { type: 'url', url: 'https://example.com' } })
  setButton(buttons, 'ob_continue', {
    text: "Let's go",
    action: { type: 'goto', scenarioId: 'onboarding', stepId: 'ask_name' },
  })
  setButton(buttons, 'ob_later', { text: 'Maybe later', action: { type: 'end' } })
  setButton(buttons, 'sup_billing', {
    text: 'Billing',
    action: { type: 'goto', scenarioId: 'support', stepId: 'contact' },
  })
  setButton(buttons, 'sup_tech', {
    text: 'Technical issue',
    action: { type: 'goto', scenarioId: 'support', stepId: 'contact' },
  })
  setButton(buttons, 'back', { text: 'Back', action: { type: 'back' } })

  const onboarding = newDemoDoc()
  createScenario(scenarios, onboarding, {
    id: 'onboarding',
    title: 'Onboarding',
    enabled: true,
    order: 0,
    trigger: { command: 'onboarding', deepLink: 'onboarding' },
    firstStep: {
      id: 'welcome',
      message: "Hi! Let's get you set up. It takes less than a minute.",
      keyboard: { kind: 'inline', rows: [['ob_continue'], ['ob_later']] },
    },
  })
  addStep(onboarding, {
    id: 'ask_name',
    message: 'What should I call you?',
    input: { var: 'name', kind: 'text' },
    next: 'finish',
  })
  addStep(onboarding, {
    id: 'finish',
    message: 'Nice to meet you, {name}! You are all set.',
    keyboard: { kind: 'inline', rows: [['support', 'website']] },
  })

  const support = newDemoDoc()
  createScenario(scenarios, support, {
    id: 'support',
    title: 'Support',
    enabled: true,
    order: 1,
    trigger: { command: 'support', text: 'help' },
    firstStep: {
      id: 'topic',
      message: 'What do you need help with?',
      keyboard: { kind: 'inline', rows: [['sup_billing', 'sup_tech'], ['back']] },
    },
  })
  addStep(support, {
    id: 'contact',
    message: 'Write to support@example.com and we will answer within one business day.',
  })

  const names = seedDocumentNames(space)
  const docs = [settings, buttons, scenarios, onboarding, support, activity]
  return new Map(names.map((name, i) => [name, Y.encodeStateAsUpdate(docs[i])]))
}

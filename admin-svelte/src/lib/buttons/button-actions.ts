// What a button does, in the words a bot owner reads: the choices of the
// button dialog and of the Buttons page, and the short line a keyboard chip
// shows ("→ Ask the name", "↗ example.com", "Mini App", "Back", "End").
// The stored action stays shared-docs' ButtonAction; only the words are here.
import type { ButtonAction, ButtonActionType } from '@botsync/shared-docs'

/** The dialog's choices: a goto is split into "a step of this scenario" and "another scenario". */
export type ActionChoice = 'step' | 'scenario' | 'url' | 'web_app' | 'back' | 'end' | 'callback'

export const ACTION_CHOICE_LABELS: Record<ActionChoice, string> = {
  step: 'Go to step…',
  scenario: 'Go to another scenario…',
  url: 'Open link',
  web_app: 'Open Mini App page',
  back: 'Go back',
  end: 'End',
  callback: 'Send data to your own code',
}

/** The Buttons page's choices, one per stored action type (no "this scenario" there). */
export const ACTION_TYPE_LABELS: Record<ButtonActionType, string> = {
  goto: 'Go to a scenario…',
  url: 'Open link',
  web_app: 'Open Mini App page',
  back: 'Go back',
  end: 'End',
  callback: 'Send data to your own code',
}

/** What a button's action is called in the dialog, seen from the scenario `here` (null: from no scenario). */
export function choiceOf(action: ButtonAction | null, here: string | null): ActionChoice | null {
  if (!action) return null
  if (action.type === 'goto') return here !== null && action.scenarioId === here && action.stepId ? 'step' : 'scenario'
  return action.type
}

export interface ActionNames {
  /** Scenario titles by id. */
  scenarios: Record<string, string>
  /** Step titles by scenario id, for the scenarios whose steps are known. */
  steps: (scenarioId: string) => Record<string, string> | undefined
  /** The scenario the chip is shown in: a step of it is named alone, without its scenario. */
  here?: string
}

/** The host of a link ("example.com"), or the link itself when it is not a full address. */
export function linkHost(url: string): string {
  try {
    return new URL(url).host || url
  } catch {
    return url
  }
}

/** The chip's line: where the button leads, or what it opens. */
export function describeAction(action: ButtonAction | null, names: ActionNames): string {
  if (!action) return 'Does nothing yet'
  switch (action.type) {
    case 'goto': {
      const scenario = Object.hasOwn(names.scenarios, action.scenarioId) ? names.scenarios[action.scenarioId] || 'Untitled scenario' : null
      if (scenario === null) return '→ a deleted scenario'
      if (!action.stepId) return action.scenarioId === names.here ? '→ the start' : `→ ${scenario}`
      const steps = names.steps(action.scenarioId)
      if (!steps) return `→ ${scenario}`
      const step = Object.hasOwn(steps, action.stepId) ? steps[action.stepId] : null
      if (step === null) return '→ a deleted step'
      return action.scenarioId === names.here ? `→ ${step}` : `→ ${scenario} · ${step}`
    }
    case 'url':
      return `↗ ${linkHost(action.url)}`
    case 'web_app':
      return 'Mini App'
    case 'back':
      return 'Back'
    case 'end':
      return 'End'
    case 'callback':
      return 'Data for your code'
  }
}

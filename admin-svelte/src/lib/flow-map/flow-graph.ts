// A scenario as a graph, from the projections the editor already holds: one
// node per step (its title, the start of its message, its keyboard), an edge
// per `next` and per keyboard button that goes to a step, and a small stub
// node per other scenario a button goes to. Plain data: the map component
// turns it into Svelte Flow's nodes and edges, the layout into positions.
import { stepTitles, type ButtonJson, type ScenarioIndexEntry, type ScenarioJson } from '@botsync/shared-docs'

/** What a keyboard button does, as the map shows it (an icon, and an edge or not). */
export type FlowButtonKind = 'step' | 'scenario' | 'link' | 'mini-app' | 'back' | 'end' | 'reply' | 'broken'

export interface FlowButton {
  /** The node's handle this button's edge leaves from: its place in the keyboard (one button may be in it twice). */
  handle: string
  buttonId: string
  label: string
  kind: FlowButtonKind
}

export interface FlowStep {
  id: string
  title: string
  /** The start of the message, on one line. */
  excerpt: string
  isEntry: boolean
  /** Waits for the user's answer before `next`. */
  asks: boolean
  rows: FlowButton[][]
}

export interface FlowStub {
  /** Node id: see stubId. */
  id: string
  scenarioId: string
  title: string
}

export type FlowEdge =
  | { id: string; kind: 'next'; source: string; sourceHandle: 'next'; target: string }
  | { id: string; kind: 'button'; source: string; sourceHandle: string; target: string; buttonId: string }

export interface FlowGraph {
  steps: FlowStep[]
  stubs: FlowStub[]
  edges: FlowEdge[]
}

export const NEXT_HANDLE = 'next'
const EXCERPT_CHARS = 90

export function buttonHandle(row: number, column: number): string {
  return `button-${row}-${column}`
}

/** The keyboard place a button handle stands for, or null for the next handle or anything else. */
export function parseButtonHandle(handle: string | null | undefined): { row: number; column: number } | null {
  const match = /^button-(\d+)-(\d+)$/.exec(handle ?? '')
  return match ? { row: Number(match[1]), column: Number(match[2]) } : null
}

/** A stub's node id has a ":", which no step id has (names.ts: letters, digits, _ and -). */
export function stubId(scenarioId: string): string {
  return `scenario:${scenarioId}`
}

function excerptOf(message: string): string {
  const flat = message.replace(/\s+/g, ' ').trim()
  const chars = Array.from(flat)
  return chars.length > EXCERPT_CHARS ? `${chars.slice(0, EXCERPT_CHARS).join('').trimEnd()}…` : flat
}

function kindOf(button: ButtonJson | undefined, scenarioId: string, scenario: ScenarioJson, scenarios: Record<string, ScenarioIndexEntry>): FlowButtonKind {
  const action = button?.action
  if (!action) return 'broken'
  switch (action.type) {
    case 'goto':
      if (action.scenarioId !== scenarioId) return Object.hasOwn(scenarios, action.scenarioId) ? 'scenario' : 'broken'
      return Object.hasOwn(scenario.steps, action.stepId ?? scenario.entryStepId) ? 'step' : 'broken'
    case 'url':
      return 'link'
    case 'web_app':
      return 'mini-app'
    case 'back':
      return 'back'
    case 'end':
      return 'end'
    case 'callback':
      return 'reply'
  }
}

export function buildFlowGraph(input: {
  scenarioId: string
  scenario: ScenarioJson
  buttons: Record<string, ButtonJson>
  scenarios: Record<string, ScenarioIndexEntry>
}): FlowGraph {
  const { scenarioId, scenario, buttons, scenarios } = input
  const titles = stepTitles(scenario)
  const steps: FlowStep[] = []
  const edges: FlowEdge[] = []
  const stubs = new Map<string, FlowStub>()
  for (const id of scenario.stepOrder) {
    const step = scenario.steps[id]
    const rows = step.keyboard.rows.map((row, r) =>
      row.map((buttonId, c): FlowButton => {
        const button = buttons[buttonId]
        const handle = buttonHandle(r, c)
        const kind = kindOf(button, scenarioId, scenario, scenarios)
        const action = button?.action
        if (kind === 'step' && action?.type === 'goto') {
          // A goto without a step starts the scenario over: its entry step.
          edges.push({ id: `${id}/${handle}`, kind: 'button', source: id, sourceHandle: handle, target: action.stepId ?? scenario.entryStepId, buttonId })
        } else if (kind === 'scenario' && action?.type === 'goto') {
          const target = stubId(action.scenarioId)
          if (!stubs.has(target)) stubs.set(target, { id: target, scenarioId: action.scenarioId, title: scenarios[action.scenarioId].title || 'Untitled scenario' })
          edges.push({ id: `${id}/${handle}`, kind: 'button', source: id, sourceHandle: handle, target, buttonId })
        }
        return { handle, buttonId, label: button ? button.text || 'Unnamed button' : 'Missing button', kind }
      }),
    )
    if (step.next !== null && Object.hasOwn(scenario.steps, step.next)) {
      edges.push({ id: `${id}/${NEXT_HANDLE}`, kind: 'next', source: id, sourceHandle: NEXT_HANDLE, target: step.next })
    }
    steps.push({ id, title: titles[id], excerpt: excerptOf(step.message), isEntry: scenario.entryStepId === id, asks: step.input !== null, rows })
  }
  return { steps, stubs: [...stubs.values()], edges }
}

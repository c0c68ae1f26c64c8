// The live activity of a space: counters and recent events from the
// server-written `<space>/activity` document (read-only for every admin).
// New events arriving from the server are also reported to `onNewEvents`
// (the app shows a toast), but not what a first sync or IndexedDB restores.
import {
  activityRoot,
  counterParts,
  buttonsRoot,
  docName,
  parseActivityEvent,
  projectActivity,
  projectButtons,
  projectScenarios,
  scenariosRoot,
  type ActivityEvent,
  type ActivityJson,
  type ButtonJson,
  type ScenarioIndexEntry,
  type AnyYType,
} from '@botsync/shared-docs'
import { untrack } from 'svelte'
import * as Y from 'yjs'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { YState } from '../yjs/y-state.svelte.ts'

export interface Names {
  scenarios: Record<string, ScenarioIndexEntry>
  buttons: Record<string, ButtonJson>
}

export interface ActivityOptions {
  /**
   * Called with events that arrived live, oldest first, and the names to
   * describe them with (read when they are announced, once the scenario
   * index and the buttons have loaded, so a toast names the button rather
   * than its id).
   */
  onNewEvents?: (events: ActivityEvent[], names: Names) => void
}

export class ActivityState {
  readonly activity: OpenDocument
  readonly index: OpenDocument
  readonly buttonsDoc: OpenDocument
  readonly #source: DocumentSource
  readonly #activity: YState<ActivityJson>
  readonly #index: YState<Record<string, ScenarioIndexEntry>>
  readonly #buttons: YState<Record<string, ButtonJson>>
  readonly #root: Y.Map<unknown>
  readonly #options: ActivityOptions
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- cleanup handles, never rendered
  readonly #pendingAnnouncements = new Set<() => void>()

  constructor(source: DocumentSource, space: string, options: ActivityOptions = {}) {
    this.#source = source
    this.#options = options
    this.activity = source.open(docName.activity(space))
    this.index = source.open(docName.scenarios(space))
    this.buttonsDoc = source.open(docName.buttons(space))
    const activity = this.activity.doc
    const index = this.index.doc
    const buttons = this.buttonsDoc.doc
    // Counters are the old single values (in the root) plus per-instance parts (their own top-level map).
    this.#activity = new YState([activityRoot(activity), counterParts(activity)], () => projectActivity(activity))
    this.#index = new YState(scenariosRoot(index), () => projectScenarios(index))
    this.#buttons = new YState(buttonsRoot(buttons), () => projectButtons(buttons))
    // A plain observer (not the runes adapter): toasts must fire on every
    // page, whether or not anything renders the dashboard.
    this.#root = activityRoot(activity)
    this.#root.observeDeep(this.#onChange)
  }

  #current = $derived.by(() => this.#activity.current)
  #recent = $derived.by((): ActivityEvent[] => [...this.#current.events].reverse())
  #names = $derived.by((): Names => ({ scenarios: this.#index.current, buttons: this.#buttons.current }))

  /** Counters and events, as the activity document holds them. */
  get current(): ActivityJson {
    return this.#current
  }

  /** Newest first. */
  get recent(): ActivityEvent[] {
    return this.#recent
  }

  /** Scenario titles and button texts, to name what the events refer to. */
  get names(): Names {
    return this.#names
  }

  get loaded(): boolean {
    return this.activity.loaded
  }

  #onChange = (events: Y.YEvent<AnyYType>[], transaction: Y.Transaction): void => {
    // The first sync's changes are applied before serverSynced turns true,
    // so what was already there when the page opened is not announced.
    if (!this.#options.onNewEvents || !this.activity.serverSynced || transaction.local) return
    const added: ActivityEvent[] = []
    for (const event of events) {
      if (!(event.target instanceof Y.Array)) continue
      for (const op of event.delta) {
        if (!Array.isArray(op.insert)) continue
        for (const value of op.insert) {
          const parsed = parseActivityEvent(value)
          if (parsed) added.push(parsed)
        }
      }
    }
    if (added.length > 0) this.#announce(added, this.#options.onNewEvents)
  }

  /** Names read from the documents now: the derived `names` is only kept current while something renders it. */
  #namesNow(): Names {
    return { scenarios: projectScenarios(this.index.doc), buttons: projectButtons(this.buttonsDoc.doc) }
  }

  #announce(events: ActivityEvent[], announce: NonNullable<ActivityOptions['onNewEvents']>): void {
    if (this.index.loaded && this.buttonsDoc.loaded) return announce(events, this.#namesNow())
    // The event came before the documents that name its scenario or button
    // (a fresh device): announce it as soon as they have loaded.
    const stop = $effect.root(() => {
      $effect(() => {
        if (!this.index.loaded || !this.buttonsDoc.loaded) return
        untrack(() => announce(events, this.#namesNow()))
        queueMicrotask(() => {
          stop()
          this.#pendingAnnouncements.delete(stop)
        })
      })
    })
    this.#pendingAnnouncements.add(stop)
  }

  destroy(): void {
    for (const stop of this.#pendingAnnouncements) stop()
    this.#pendingAnnouncements.clear()
    this.#root.unobserveDeep(this.#onChange)
    this.#source.release(this.activity)
    this.#source.release(this.index)
    this.#source.release(this.buttonsDoc)
  }
}

/** One line for a person, e.g. 'Someone pressed "Get started"'. */
export function describeEvent(event: ActivityEvent, names: Names): string {
  // Names, never ids: what was deleted since is said to be.
  const scenario = (id: string): string => (names.scenarios[id]?.title ? `“${names.scenarios[id].title}”` : 'a deleted scenario')
  switch (event.type) {
    case 'user_started':
      return 'A new user started the bot'
    case 'scenario_entered':
      return `A user entered ${scenario(event.scenarioId)}`
    case 'step_reached':
      return `A user reached ${event.stepTitle ? `“${event.stepTitle}”` : 'a step'} in ${scenario(event.scenarioId)}`
    case 'button_pressed':
      return `A user pressed ${names.buttons[event.buttonId]?.text ? `“${names.buttons[event.buttonId].text}”` : 'a deleted button'}`
    case 'input_rejected':
      return `An answer was rejected at ${event.stepTitle ? `“${event.stepTitle}”` : 'a step'} in ${scenario(event.scenarioId)}`
  }
}

export interface CounterRow {
  key: string
  label: string
  value: number
}

/** Counters grouped for the dashboard: totals first, then per scenario and per button. */
export function summarizeCounters(
  counters: Record<string, number>,
  names: Names,
): {
  totals: CounterRow[]
  scenarios: CounterRow[]
  buttons: CounterRow[]
} {
  const scenarios: CounterRow[] = []
  const buttons: CounterRow[] = []
  let entered = 0
  let pressed = 0
  for (const [key, value] of Object.entries(counters)) {
    const scenarioMatch = /^scenario:(.+):entered$/.exec(key)
    const buttonMatch = /^button:(.+):pressed$/.exec(key)
    if (scenarioMatch) {
      entered += value
      scenarios.push({ key, label: names.scenarios[scenarioMatch[1]]?.title || scenarioMatch[1], value })
    } else if (buttonMatch) {
      pressed += value
      buttons.push({ key, label: names.buttons[buttonMatch[1]]?.text || buttonMatch[1], value })
    }
  }
  const byValue = (a: CounterRow, b: CounterRow): number => b.value - a.value || a.label.localeCompare(b.label)
  return {
    totals: [
      { key: 'users:started', label: 'Users started', value: counters['users:started'] ?? 0 },
      { key: 'scenarios:entered', label: 'Scenarios entered', value: entered },
      { key: 'buttons:pressed', label: 'Buttons pressed', value: pressed },
      { key: 'input:rejected', label: 'Answers rejected', value: counters['input:rejected'] ?? 0 },
    ],
    scenarios: scenarios.sort(byValue),
    buttons: buttons.sort(byValue),
  }
}

// State of the scenario list: the scenarios index document. Creating a
// scenario also writes its (new, empty) content document.
import {
  createScenario,
  docName,
  newId,
  projectScenarios,
  removeScenario,
  reorderScenarios,
  scenariosRoot,
  sortScenarios,
  updateScenario,
  type ScenarioIndexEntry,
} from '@botsync/shared-docs'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { PresenceState } from '../presence/presence-state.svelte.ts'
import { ProblemIndex, validateParts } from '../validation/problem-index.ts'
import { edit } from '../yjs/edit-origin.ts'
import { UndoHistory } from '../yjs/undo-history.svelte.ts'
import { YState } from '../yjs/y-state.svelte.ts'

/** The `performance.mark` the scenario list sets when its rows first show (bench/suites/admin-load.ts waits for it). */
export const SCENARIOS_LISTED_MARK = 'botsync:scenarios-listed'

export class ScenarioListState {
  readonly space: string
  readonly index: OpenDocument
  readonly presence: PresenceState
  readonly undo: UndoHistory
  readonly #source: DocumentSource
  readonly #index: YState<Record<string, ScenarioIndexEntry>>

  constructor(source: DocumentSource, space: string) {
    this.#source = source
    this.space = space
    this.index = source.open(docName.scenarios(space))
    this.presence = new PresenceState(this.index.awareness)
    const doc = this.index.doc
    this.#index = new YState(scenariosRoot(doc), () => projectScenarios(doc))
    this.undo = new UndoHistory([scenariosRoot(doc)])
  }

  #scenarios = $derived.by((): ScenarioIndexEntry[] => sortScenarios(this.#index.current))
  #problems = $derived.by((): ProblemIndex => (this.index.loaded ? validateParts({ scenarios: this.#index.current }, ['scenarios']) : ProblemIndex.empty))

  /** The scenarios in their order. */
  get scenarios(): ScenarioIndexEntry[] {
    return this.#scenarios
  }

  /** Trigger problems (format, duplicates) of the index. */
  get problems(): ProblemIndex {
    return this.#problems
  }

  get loaded(): boolean {
    return this.index.loaded
  }

  get readOnly(): boolean {
    return this.index.readOnly
  }

  /** Creates a scenario (disabled, one empty step) and returns its id. */
  async create(title: string): Promise<string | null> {
    if (this.readOnly) return null
    const scenarioId = newId()
    const content = this.#source.open(docName.scenario(this.space, scenarioId))
    try {
      await content.ready
      const index = this.index.doc
      this.undo.stopCapturing()
      edit(content.doc, () => edit(index, () => createScenario(index, content.doc, { id: scenarioId, title: title.trim() || 'Untitled scenario' })))
      return scenarioId
    } finally {
      // The session keeps it open until the server has acknowledged it.
      this.#source.release(content)
    }
  }

  rename(id: string, title: string): void {
    this.#edit(() => updateScenario(this.index.doc, id, { title }), false)
  }

  setEnabled(id: string, enabled: boolean): void {
    this.#edit(() => updateScenario(this.index.doc, id, { enabled }))
  }

  /** Published scenarios are readable by everyone in the Mini App. */
  setPublic(id: string, isPublic: boolean): void {
    this.#edit(() => updateScenario(this.index.doc, id, { public: isPublic }))
  }

  /** Moves a scenario one place up or down; rewrites `order` of every entry. */
  move(id: string, delta: -1 | 1): void {
    const ids = this.scenarios.map((entry) => entry.id)
    const from = ids.indexOf(id)
    const to = from + delta
    if (from === -1 || to < 0 || to >= ids.length) return
    ids.splice(from, 1)
    ids.splice(to, 0, id)
    this.#edit(() => reorderScenarios(this.index.doc, ids))
  }

  remove(id: string): void {
    this.#edit(() => removeScenario(this.index.doc, id))
  }

  /** Typing merges into one undo step; a click (toggle, move, delete) is one of its own. */
  #edit(change: () => void, discrete = true): void {
    if (this.readOnly) return
    if (discrete) this.undo.stopCapturing()
    edit(this.index.doc, change)
    if (discrete) this.undo.stopCapturing()
  }

  destroy(): void {
    this.undo.destroy()
    this.#source.release(this.index)
  }
}

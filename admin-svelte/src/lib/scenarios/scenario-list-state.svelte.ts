// State of the scenario list: the scenarios index document. Creating a
// scenario also writes its (new, empty) content document. Deleting one asks
// the buttons that go to it first: they go to another scenario, or are
// deleted too (and leave the keyboards and the main menu that showed them,
// which is why the scenarios' contents are opened while a delete is asked).
// A deleted scenario's entry goes to the index's trash.
import {
  buttonsGoingTo,
  buttonsRoot,
  createScenario,
  docName,
  emptyTrash,
  listTrash,
  newId,
  projectButtons,
  projectScenarios,
  replaceButtonInKeyboards,
  replaceButtonInMainMenu,
  reorderScenarios,
  restoreScenario,
  retargetButtonsToScenario,
  scenarioReferences,
  scenarioRoot,
  scenariosRoot,
  settingsRoot,
  sortScenarios,
  trashButton,
  trashRoot,
  trashScenario,
  updateScenario,
  type ButtonJson,
  type Reference,
  type ScenarioIndexEntry,
  type TrashedScenario,
} from '@botsync/shared-docs'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { PresenceState } from '../presence/presence-state.svelte.ts'
import { ScenarioContents } from '../references/scenario-contents.svelte.ts'
import { ProblemIndex, validateParts } from '../validation/problem-index.ts'
import { edit } from '../yjs/edit-origin.ts'
import { UndoHistory } from '../yjs/undo-history.svelte.ts'
import { YState } from '../yjs/y-state.svelte.ts'

/** The `performance.mark` the scenario list sets when its rows first show (bench/suites/admin-load.ts waits for it). */
export const SCENARIOS_LISTED_MARK = 'botsync:scenarios-listed'

export class ScenarioListState {
  readonly space: string
  readonly index: OpenDocument
  /** The buttons: which go to a scenario being deleted. */
  readonly buttonsDoc: OpenDocument
  /** The main menu, which may show those buttons. */
  readonly settingsDoc: OpenDocument
  readonly presence: PresenceState
  readonly undo: UndoHistory
  readonly #source: DocumentSource
  readonly #index: YState<Record<string, ScenarioIndexEntry>>
  readonly #buttons: YState<Record<string, ButtonJson>>
  readonly #trashState: YState<TrashedScenario[]>
  /** Every scenario's content, open only while a delete is being asked. */
  readonly #contents: ScenarioContents

  constructor(source: DocumentSource, space: string) {
    this.#source = source
    this.space = space
    this.index = source.open(docName.scenarios(space))
    this.buttonsDoc = source.open(docName.buttons(space))
    this.settingsDoc = source.open(docName.settings(space))
    this.presence = new PresenceState(this.index.awareness)
    const doc = this.index.doc
    const buttons = this.buttonsDoc.doc
    this.#index = new YState(scenariosRoot(doc), () => projectScenarios(doc))
    this.#buttons = new YState(buttonsRoot(buttons), () => projectButtons(buttons))
    this.#trashState = new YState(trashRoot(doc), () => listTrash(doc).filter((item): item is TrashedScenario => item.kind === 'scenario'))
    this.undo = new UndoHistory([scenariosRoot(doc), trashRoot(doc), buttonsRoot(buttons), trashRoot(buttons), settingsRoot(this.settingsDoc.doc)])
    this.#contents = new ScenarioContents(source, space, (content) => this.undo.track(scenarioRoot(content)))
  }

  #scenarios = $derived.by((): ScenarioIndexEntry[] => sortScenarios(this.#index.current))
  #trash = $derived.by(() => this.#trashState.current)
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

  /** The space's buttons, by id (their labels in the delete dialog). */
  get buttons(): Record<string, ButtonJson> {
    return this.#buttons.current
  }

  /** The scenarios deleted and kept in the trash, newest first. */
  get trash(): TrashedScenario[] {
    return this.#trash
  }

  /** The buttons that go to the scenario. */
  referencesTo(scenarioId: string): Reference[] {
    return scenarioReferences({ buttons: this.#buttons.current }, scenarioId)
  }

  /** Opens what a delete may change (every scenario's keyboards); `false` releases it again. */
  prepareDelete(open: boolean): void {
    this.#contents.sync(open ? this.scenarios.map((entry) => entry.id) : [])
  }

  /** Everything a delete may change is loaded. */
  get deleteReady(): boolean {
    return this.buttonsDoc.loaded && this.settingsDoc.loaded && this.#contents.loaded
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

  /**
   * Deletes a scenario into the trash. The buttons that go to it go to the
   * start of `retargetTo` instead, or with null are deleted too (into the
   * trash), after they left every keyboard and the main menu. One undo step.
   */
  remove(id: string, retargetTo: string | null = null): void {
    if (this.readOnly) return
    const target = retargetTo !== null && retargetTo !== id && this.#index.current[retargetTo] ? retargetTo : null
    const buttons = this.buttonsDoc.doc
    const by = this.presence.me?.name
    this.undo.together(() => {
      if (target !== null) edit(buttons, () => retargetButtonsToScenario(buttons, id, target))
      else {
        for (const buttonId of buttonsGoingTo(buttons, id)) {
          for (const entry of this.scenarios) {
            const document = this.#contents.document(entry.id)
            if (document && !document.readOnly) edit(document.doc, () => replaceButtonInKeyboards(document.doc, buttonId, null))
          }
          edit(this.settingsDoc.doc, () => replaceButtonInMainMenu(this.settingsDoc.doc, buttonId, null))
          edit(buttons, () => trashButton(buttons, buttonId, { at: Date.now(), by }))
        }
      }
      edit(this.index.doc, () => trashScenario(this.index.doc, id, { at: Date.now(), by }))
    })
  }

  /** Puts a deleted scenario back, with its steps (its buttons stay in the Buttons page's trash). */
  restore(id: string): string | null {
    let restored: string | null = null
    this.#edit(() => (restored = restoreScenario(this.index.doc, id)))
    return restored
  }

  emptyTrash(): void {
    this.#edit(() => emptyTrash(this.index.doc))
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
    this.#contents.destroy()
    this.#source.release(this.index)
    this.#source.release(this.buttonsDoc)
    this.#source.release(this.settingsDoc)
  }
}

// State of the Buttons page: the buttons document, plus the scenarios index
// and the content of each scenario (goto targets: the step picker and the
// validation of references need them).
import {
  buttonsRoot,
  createButton,
  docName,
  isValidId,
  projectButtons,
  projectScenario,
  projectScenarios,
  removeButton,
  scenarioRoot,
  scenariosRoot,
  setButtonAction,
  setButtonText,
  sortScenarios,
  type ButtonAction,
  type ButtonActionType,
  type ButtonJson,
  type ScenarioIndexEntry,
  type ScenarioJson,
} from '@botsync/shared-docs'
import { SvelteMap } from 'svelte/reactivity'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { PresenceState } from '../presence/presence-state.svelte.ts'
import { ProblemIndex, validateParts } from '../validation/problem-index.ts'
import { edit } from '../yjs/edit-origin.ts'
import { UndoHistory } from '../yjs/undo-history.svelte.ts'
import { YState } from '../yjs/y-state.svelte.ts'

/** At most this many scenario documents are opened for goto targets. */
const MAX_TARGET_DOCUMENTS = 50

export function defaultAction(type: ButtonActionType, firstScenarioId = ''): ButtonAction {
  switch (type) {
    case 'goto':
      return { type: 'goto', scenarioId: firstScenarioId }
    case 'url':
    case 'web_app':
      return { type, url: 'https://' }
    case 'callback':
      return { type: 'callback', data: '' }
    case 'back':
    case 'end':
      return { type }
  }
}

interface TargetDocument {
  document: OpenDocument
  content: YState<ScenarioJson>
}

export class ButtonsState {
  readonly space: string
  readonly buttonsDoc: OpenDocument
  readonly index: OpenDocument
  readonly presence: PresenceState
  readonly undo: UndoHistory
  readonly #source: DocumentSource
  readonly #buttonsState: YState<Record<string, ButtonJson>>
  readonly #indexState: YState<Record<string, ScenarioIndexEntry>>
  readonly #targets = new SvelteMap<string, TargetDocument>()

  constructor(source: DocumentSource, space: string) {
    this.#source = source
    this.space = space
    this.buttonsDoc = source.open(docName.buttons(space))
    this.index = source.open(docName.scenarios(space))
    this.presence = new PresenceState(this.buttonsDoc.awareness)
    const buttons = this.buttonsDoc.doc
    const index = this.index.doc
    this.#buttonsState = new YState(buttonsRoot(buttons), () => projectButtons(buttons))
    this.#indexState = new YState(scenariosRoot(index), () => projectScenarios(index))
    this.undo = new UndoHistory([buttonsRoot(buttons)])
  }

  #buttons = $derived.by((): ButtonJson[] => Object.values(this.#buttonsState.current))
  #scenarios = $derived.by((): ScenarioIndexEntry[] => sortScenarios(this.#indexState.current))
  #scenarioContents = $derived.by((): Record<string, ScenarioJson> => {
    const result: Record<string, ScenarioJson> = {}
    for (const [id, target] of this.#targets) if (target.document.loaded) result[id] = target.content.current
    return result
  })
  #problems = $derived.by((): ProblemIndex => {
    if (!this.loaded) return ProblemIndex.empty
    return validateParts({ buttons: this.#buttonsState.current, scenarios: this.#indexState.current, scenarioDocs: this.#scenarioContents }, ['buttons'])
  })

  /** Buttons by id (ids are stable, so rows do not jump while someone types). */
  get buttons(): ButtonJson[] {
    return this.#buttons
  }

  /** The scenarios in their order (goto targets). */
  get scenarios(): ScenarioIndexEntry[] {
    return this.#scenarios
  }

  /** Content of the scenarios whose documents are open, by scenario id. */
  get scenarioContents(): Record<string, ScenarioJson> {
    return this.#scenarioContents
  }

  get problems(): ProblemIndex {
    return this.#problems
  }

  get loaded(): boolean {
    return this.buttonsDoc.loaded && this.index.loaded
  }

  get readOnly(): boolean {
    return this.buttonsDoc.readOnly
  }

  /** Steps of a goto target, in order ([] until its document is loaded). */
  stepsOf(scenarioId: string): string[] {
    return this.scenarioContents[scenarioId]?.stepOrder ?? []
  }

  /** Opens the content documents of the listed scenarios and releases the others. */
  syncTargets(scenarioIds: readonly string[]): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, gone when the method returns
    const wanted = new Set(scenarioIds.filter(isValidId).slice(0, MAX_TARGET_DOCUMENTS))
    for (const [id, target] of this.#targets) {
      if (!wanted.has(id)) {
        this.#targets.delete(id)
        this.#source.release(target.document)
      }
    }
    for (const id of wanted) {
      if (this.#targets.has(id)) continue
      const document = this.#source.open(docName.scenario(this.space, id))
      const doc = document.doc
      this.#targets.set(id, { document, content: new YState(scenarioRoot(doc), () => projectScenario(doc)) })
    }
  }

  /** Creates a button; returns its id, or an error message. */
  create(input: { id?: string; text: string; type: ButtonActionType }): { id: string } | { error: string } {
    if (this.readOnly) return { error: 'You can only view this space.' }
    const id = input.id?.trim() || undefined
    if (id !== undefined && !isValidId(id)) {
      return { error: 'An id is 1–32 characters of A–Z, a–z, 0–9, _ and -.' }
    }
    if (id !== undefined && this.#buttonsState.current[id]) return { error: `A button "${id}" already exists.` }
    let created = ''
    this.#edit(() => {
      created = createButton(this.buttonsDoc.doc, {
        id,
        text: input.text.trim() || 'New button',
        action: defaultAction(input.type, this.scenarios[0]?.id),
      })
    })
    return { id: created }
  }

  setText(id: string, text: string): void {
    this.#edit(() => setButtonText(this.buttonsDoc.doc, id, text), false)
  }

  /** `typing`: a URL or data field being typed (merged undo), not a picked option. */
  setAction(id: string, action: ButtonAction, typing = false): void {
    this.#edit(() => setButtonAction(this.buttonsDoc.doc, id, action), !typing)
  }

  remove(id: string): void {
    this.#edit(() => removeButton(this.buttonsDoc.doc, id))
  }

  /** Typing merges into one undo step; a click or a picked option is one of its own. */
  #edit(change: () => void, discrete = true): void {
    if (this.readOnly) return
    if (discrete) this.undo.stopCapturing()
    edit(this.buttonsDoc.doc, change)
    if (discrete) this.undo.stopCapturing()
  }

  destroy(): void {
    this.undo.destroy()
    for (const target of this.#targets.values()) this.#source.release(target.document)
    this.#targets.clear()
    this.#source.release(this.buttonsDoc)
    this.#source.release(this.index)
  }
}

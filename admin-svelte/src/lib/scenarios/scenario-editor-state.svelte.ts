// State of the editor of one scenario: its content document (steps), its
// entry in the scenarios index (title, enabled, triggers) and the buttons
// (labels for keyboards, references for validation, and the buttons made in
// place). Every change goes through a shared-docs accessor inside one local,
// undoable transaction; a change of two documents (a button made and put in
// a keyboard, a step deleted and the buttons retargeted) is one undo step.
// A deleted step goes to the scenario document's trash (shared-docs trash.ts).
import {
  addKeyboardButton,
  addStep,
  buttonsRoot,
  createButton,
  listTrash,
  docName,
  getStep,
  getStepMessage,
  LIMITS,
  mediaLibraryMap,
  moveStep,
  parseStepMedia,
  projectMediaLibrary,
  projectButtons,
  projectScenario,
  projectScenarios,
  restoreStep,
  retargetButtonsToStep,
  retargetStepLinks,
  scenarioDocument,
  scenarioRoot,
  scenariosRoot,
  setButton,
  setEntryStep,
  setKeyboard,
  setStepInput,
  setStepMedia,
  setStepMessage,
  setStepNext,
  setStepTitle,
  stepTitles,
  setTrigger,
  emptyTrash,
  sortScenarios,
  stepReferences,
  trashRoot,
  trashStep,
  updateScenario,
  type ButtonInit,
  type ButtonJson,
  type Reference,
  type TrashedStep,
  type KeyboardKind,
  type MediaInfo,
  type MediaRef,
  type ScenarioIndexEntry,
  type ScenarioJson,
  type StepInput,
  type StepJson,
  type TriggerKey,
} from '@botsync/shared-docs'
import type * as Y from 'yjs'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import type { ApiOptions } from '../api/api-client.ts'
import { describeAction } from '../buttons/button-actions.ts'
import { MediaThumbnails } from '../media/media-thumbnails.svelte.ts'
import { PresenceState } from '../presence/presence-state.svelte.ts'
import { ProblemIndex, validateParts } from '../validation/problem-index.ts'
import { edit } from '../yjs/edit-origin.ts'
import { UndoHistory } from '../yjs/undo-history.svelte.ts'
import { YState } from '../yjs/y-state.svelte.ts'

export class ScenarioEditorState {
  readonly space: string
  readonly scenarioId: string
  /** Document name of the content without the space, as used in problems. */
  readonly problemDocument: string
  readonly content: OpenDocument
  readonly index: OpenDocument
  readonly buttonsDoc: OpenDocument
  /** The settings document, for its media library (the names and kinds of the space's files). */
  readonly settingsDoc: OpenDocument
  /** Who is in this scenario, and on which step. */
  readonly presence: PresenceState
  /** Presence in the index: tells the scenario list who edits which scenario. */
  readonly indexPresence: PresenceState
  readonly undo: UndoHistory
  /** The admin's current access token, for the media uploads and files. */
  readonly token: () => string | null
  /** The space's stored files as blob URLs, for the media panel and the preview. */
  readonly thumbnails: MediaThumbnails
  readonly #source: DocumentSource
  readonly #scenarioState: YState<ScenarioJson>
  readonly #indexState: YState<Record<string, ScenarioIndexEntry>>
  readonly #buttonsState: YState<Record<string, ButtonJson>>
  readonly #mediaState: YState<Record<string, MediaInfo>>
  readonly #trashState: YState<TrashedStep[]>

  /** `api`: for the media uploads and files; null (a test) shows placeholder tiles. */
  constructor(source: DocumentSource, space: string, scenarioId: string, api: ApiOptions | null = null) {
    this.#source = source
    this.token = () => api?.token() ?? null
    this.thumbnails = new MediaThumbnails(space, api)
    this.space = space
    this.scenarioId = scenarioId
    this.problemDocument = scenarioDocument(scenarioId)
    this.content = source.open(docName.scenario(space, scenarioId))
    this.index = source.open(docName.scenarios(space))
    this.buttonsDoc = source.open(docName.buttons(space))
    this.settingsDoc = source.open(docName.settings(space))
    this.presence = new PresenceState(this.content.awareness)
    this.indexPresence = new PresenceState(this.index.awareness)
    const content = this.content.doc
    const index = this.index.doc
    const buttons = this.buttonsDoc.doc
    this.#scenarioState = new YState(scenarioRoot(content), () => projectScenario(content))
    this.#indexState = new YState(scenariosRoot(index), () => projectScenarios(index))
    this.#buttonsState = new YState(buttonsRoot(buttons), () => projectButtons(buttons))
    const settings = this.settingsDoc.doc
    this.#mediaState = new YState(mediaLibraryMap(settings), () => projectMediaLibrary(settings))
    this.#trashState = new YState(trashRoot(content), () => listTrash(content).filter((item): item is TrashedStep => item.kind === 'step'))
    this.undo = new UndoHistory([scenarioRoot(content), trashRoot(content), scenariosRoot(index), buttonsRoot(buttons)])
    this.indexPresence.setFocus({ item: scenarioId, label: 'this scenario' })
  }

  #scenario = $derived.by(() => this.#scenarioState.current)
  #entry = $derived.by((): ScenarioIndexEntry | null => this.#indexState.current[this.scenarioId] ?? null)
  #scenarios = $derived.by(() => this.#indexState.current)
  #buttons = $derived.by(() => this.#buttonsState.current)
  #mediaLibrary = $derived.by(() => this.#mediaState.current)
  #steps = $derived.by((): StepJson[] => this.#scenario.stepOrder.map((id) => this.#scenario.steps[id]))
  #stepTitles = $derived.by(() => stepTitles(this.#scenario))
  #scenarioList = $derived.by(() => sortScenarios(this.#scenarios))
  #scenarioTitles = $derived.by(() => Object.fromEntries(Object.values(this.#scenarios).map((entry) => [entry.id, entry.title])))
  #trash = $derived.by(() => this.#trashState.current)

  /** The scenario's content: its steps and entry step. */
  get scenario(): ScenarioJson {
    return this.#scenario
  }

  /** Its entry in the scenarios index (title, enabled, triggers); null once removed. */
  get entry(): ScenarioIndexEntry | null {
    return this.#entry
  }

  /** Every scenario of the index, by id (goto targets, trigger duplicates). */
  get scenarios(): Record<string, ScenarioIndexEntry> {
    return this.#scenarios
  }

  /** The space's buttons, by id (keyboard labels). */
  get buttons(): Record<string, ButtonJson> {
    return this.#buttons
  }

  /** The space's stored files, by id (what a step's media refers to). */
  get mediaLibrary(): Record<string, MediaInfo> {
    return this.#mediaLibrary
  }

  /** The steps in their order. */
  get steps(): StepJson[] {
    return this.#steps
  }

  /** Each step's name (its title or first words), unique within the scenario. */
  get stepTitles(): Record<string, string> {
    return this.#stepTitles
  }

  /** Every scenario of the index, in order (the dialog's "Go to another scenario…"). */
  get scenarioList(): ScenarioIndexEntry[] {
    return this.#scenarioList
  }

  /** The steps deleted from this scenario and kept in its trash, newest first. */
  get trash(): TrashedStep[] {
    return this.#trash
  }

  get loaded(): boolean {
    return this.content.loaded && this.index.loaded && this.buttonsDoc.loaded && this.settingsDoc.loaded
  }

  get readOnly(): boolean {
    return this.content.readOnly
  }

  #problems = $derived.by((): ProblemIndex => {
    if (!this.loaded) return ProblemIndex.empty
    const entry = this.entry
    return validateParts(
      {
        buttons: this.buttons,
        media: this.mediaLibrary,
        scenarios: this.scenarios,
        scenarioDocs: entry ? { [this.scenarioId]: this.scenario } : {},
      },
      [this.problemDocument, 'scenarios'],
    ).filterScenarioEntry(this.scenarioId)
  })

  /** Inline problems of this scenario: its content and its index entry. */
  get problems(): ProblemIndex {
    return this.#problems
  }

  /** "“Ask the name”": how a step is named to people (presence, buttons' labels); never its id. */
  stepLabel(stepId: string): string {
    const title = this.#stepTitles[stepId]
    return title ? `“${title}”` : 'a deleted step'
  }

  /** Names the step; typing merges into one undo step, like the message. */
  setTitle(stepId: string, title: string): void {
    this.#editContent((doc) => setStepTitle(doc, stepId, title), false)
  }

  /** What a button does, as its chip says: "→ Ask the name", "↗ example.com", "End". */
  describeButton(buttonId: string): string {
    return describeAction(this.buttons[buttonId]?.action ?? null, {
      scenarios: this.#scenarioTitles,
      steps: (scenarioId) => (scenarioId === this.scenarioId ? this.stepTitles : undefined),
      here: this.scenarioId,
    })
  }

  /** What leads to a step: buttons that go to it, steps that continue with it, the entry. */
  referencesTo(stepId: string): Reference[] {
    return stepReferences({ buttons: this.buttons, scenarioDocs: { [this.scenarioId]: this.scenario } }, this.scenarioId, stepId)
  }

  /** The step after this one in display order (the one before it for the last), or null when it is alone. */
  neighbourOf(stepId: string): string | null {
    const order = this.scenario.stepOrder
    const at = order.indexOf(stepId)
    if (at === -1) return order[0] ?? null
    return order[at + 1] ?? order[at - 1] ?? null
  }

  messageText(stepId: string): Y.Text | undefined {
    // Read the projection first so callers re-run when steps change.
    void this.scenario
    return getStepMessage(this.content.doc, stepId)
  }

  /**
   * Typing merges into one undo step (captureTimeout); a discrete action (a
   * click: add, move, delete, pick) is always an undo step of its own.
   */
  #editContent(change: (doc: Y.Doc) => void, discrete = true): void {
    if (this.readOnly) return
    const doc = this.content.doc
    if (discrete) this.undo.stopCapturing()
    edit(doc, () => change(doc))
    if (discrete) this.undo.stopCapturing()
  }

  #editIndex(change: (doc: Y.Doc) => void, discrete = true): void {
    if (this.index.readOnly) return
    const doc = this.index.doc
    if (discrete) this.undo.stopCapturing()
    edit(doc, () => change(doc))
    if (discrete) this.undo.stopCapturing()
  }

  addStep(afterStepId?: string): string | null {
    if (this.readOnly) return null
    const position = afterStepId ? this.scenario.stepOrder.indexOf(afterStepId) : -1
    let id: string | null = null
    this.#editContent((doc) => {
      id = addStep(doc, position === -1 ? {} : { index: position + 1 })
    })
    return id
  }

  /**
   * Deletes a step into the trash. What led to it goes to `retargetTo` (a
   * step of this scenario: buttons, next steps and the entry), or with null
   * goes nowhere: steps that continued with it end, buttons go to the
   * scenario's start, and the entry moves to the first remaining step.
   * One undo step, though it may change the buttons too.
   */
  removeStep(stepId: string, retargetTo: string | null = null): void {
    if (this.readOnly || !this.scenario.steps[stepId]) return
    const target = retargetTo !== null && retargetTo !== stepId && this.scenario.steps[retargetTo] ? retargetTo : null
    const content = this.content.doc
    const buttons = this.buttonsDoc.doc
    this.undo.together(() => {
      if (!this.buttonsDoc.readOnly) edit(buttons, () => retargetButtonsToStep(buttons, this.scenarioId, stepId, target))
      edit(content, () => {
        retargetStepLinks(content, stepId, target)
        trashStep(content, stepId, { at: Date.now(), by: this.presence.me?.name })
      })
    })
  }

  /** Puts a trashed step back where it was; returns its id. */
  restoreStep(stepId: string): string | null {
    let restored: string | null = null
    this.#editContent((doc) => (restored = restoreStep(doc, stepId)))
    return restored
  }

  /** Drops the deleted steps for good. */
  emptyTrash(): void {
    this.#editContent((doc) => emptyTrash(doc))
  }

  /** Makes a button and puts it at the end of row `row` of the step's keyboard (past the last row: a new row), as one undo step. */
  createKeyboardButton(stepId: string, row: number, button: ButtonInit): string | null {
    if (this.readOnly || this.buttonsDoc.readOnly) return null
    const buttons = this.buttonsDoc.doc
    const content = this.content.doc
    let id: string | null = null
    this.undo.together(() => {
      edit(buttons, () => (id = createButton(buttons, button)))
      edit(content, () => addKeyboardButton(content, stepId, id!, row < this.#rowCount(stepId) ? row : undefined))
    })
    return id
  }

  /** Puts an existing button at the end of row `row` (past the last row: a new row). */
  addExistingButton(stepId: string, row: number, buttonId: string): void {
    this.#editContent((doc) => addKeyboardButton(doc, stepId, buttonId, row < this.#rowCount(stepId) ? row : undefined))
  }

  /** Changes a button's label and action, wherever it is shown. */
  updateButton(buttonId: string, button: ButtonInit): void {
    if (this.buttonsDoc.readOnly) return
    const buttons = this.buttonsDoc.doc
    this.undo.together(() => edit(buttons, () => setButton(buttons, buttonId, button)))
  }

  #rowCount(stepId: string): number {
    return this.scenario.steps[stepId]?.keyboard.rows.length ?? 0
  }

  moveStep(stepId: string, delta: -1 | 1): void {
    const order = this.scenario.stepOrder
    const from = order.indexOf(stepId)
    const to = from + delta
    if (from === -1 || to < 0 || to >= order.length) return
    this.#editContent((doc) => moveStep(doc, stepId, to))
  }

  setEntryStep(stepId: string): void {
    this.#editContent((doc) => setEntryStep(doc, stepId))
  }

  setMessage(stepId: string, text: string): void {
    this.#editContent((doc) => setStepMessage(doc, stepId, text), false)
  }

  setKeyboardKind(stepId: string, kind: KeyboardKind): void {
    this.#editContent((doc) => setKeyboard(doc, stepId, { kind }))
  }

  setKeyboardRows(stepId: string, rows: string[][]): void {
    this.#editContent((doc) => setKeyboard(doc, stepId, { rows }))
  }

  /** `typing`: the variable name is being typed (merged undo), not a switch flipped. */
  setInput(stepId: string, input: StepInput | null, typing = false): void {
    this.#editContent((doc) => setStepInput(doc, stepId, input), !typing)
  }

  /**
   * Adds a stored file to the step's media, after what it has (a second photo
   * makes an album). Read from the document at that moment, not from the
   * rendered props, so a file another admin added meanwhile stays.
   */
  addMedia(stepId: string, ref: MediaRef): void {
    this.#editContent((doc) => {
      const items = parseStepMedia(getStep(doc, stepId)?.get('media'))?.items ?? []
      if (items.some((item) => item.id === ref.id) || items.length >= LIMITS.albumMax) return
      setStepMedia(doc, stepId, { items: [...items, { id: ref.id, kind: ref.kind }] })
    })
  }

  removeMedia(stepId: string, mediaId: string): void {
    this.#editContent((doc) => {
      const items = parseStepMedia(getStep(doc, stepId)?.get('media'))?.items ?? []
      setStepMedia(doc, stepId, { items: items.filter((item) => item.id !== mediaId) })
    })
  }

  setNext(stepId: string, next: string | null): void {
    this.#editContent((doc) => setStepNext(doc, stepId, next))
  }

  rename(title: string): void {
    this.#editIndex((doc) => updateScenario(doc, this.scenarioId, { title }), false)
  }

  setEnabled(enabled: boolean): void {
    this.#editIndex((doc) => updateScenario(doc, this.scenarioId, { enabled }))
  }

  setTrigger(key: TriggerKey, value: string): void {
    this.#editIndex((doc) => setTrigger(doc, this.scenarioId, { [key]: value }), false)
  }

  destroy(): void {
    this.indexPresence.clearFocus(this.scenarioId)
    this.presence.clearFocus()
    this.undo.destroy()
    this.thumbnails.destroy()
    this.#source.release(this.content)
    this.#source.release(this.index)
    this.#source.release(this.buttonsDoc)
    this.#source.release(this.settingsDoc)
  }
}

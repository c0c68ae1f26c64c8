// State of the Buttons page, the library of all buttons: the buttons
// document, plus the scenarios index, the content of each scenario (goto
// targets: the step picker and the validation of references need them; and
// the keyboards, for "Used in") and the settings (the main menu). A deleted
// button goes to the buttons document's trash, after the keyboards that
// showed it were changed (another button in its place, or none), as one undo step.
import {
  buttonReferences,
  buttonsRoot,
  createButton,
  docName,
  emptyTrash,
  isValidId,
  listTrash,
  projectButtons,
  projectScenarios,
  projectSettings,
  replaceButtonInKeyboards,
  replaceButtonInMainMenu,
  restoreButton,
  scenarioRoot,
  scenariosRoot,
  setButtonAction,
  setButtonText,
  settingsRoot,
  sortScenarios,
  stepTitles,
  trashButton,
  trashRoot,
  type ButtonAction,
  type ButtonActionType,
  type ButtonJson,
  type Reference,
  type ScenarioIndexEntry,
  type ScenarioJson,
  type SettingsJson,
  type TrashedButton,
} from '@botsync/shared-docs'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { PresenceState } from '../presence/presence-state.svelte.ts'
import { ScenarioContents } from '../references/scenario-contents.svelte.ts'
import { ProblemIndex, validateParts } from '../validation/problem-index.ts'
import { edit } from '../yjs/edit-origin.ts'
import { UndoHistory } from '../yjs/undo-history.svelte.ts'
import { YState } from '../yjs/y-state.svelte.ts'

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

export class ButtonsState {
  readonly space: string
  readonly buttonsDoc: OpenDocument
  readonly index: OpenDocument
  /** For the main menu: a button shown there is "used in" it. */
  readonly settingsDoc: OpenDocument
  readonly presence: PresenceState
  readonly undo: UndoHistory
  readonly #source: DocumentSource
  readonly #buttonsState: YState<Record<string, ButtonJson>>
  readonly #indexState: YState<Record<string, ScenarioIndexEntry>>
  readonly #settingsState: YState<SettingsJson>
  readonly #trashState: YState<TrashedButton[]>
  readonly #targets: ScenarioContents

  constructor(source: DocumentSource, space: string) {
    this.#source = source
    this.space = space
    this.buttonsDoc = source.open(docName.buttons(space))
    this.index = source.open(docName.scenarios(space))
    this.settingsDoc = source.open(docName.settings(space))
    this.presence = new PresenceState(this.buttonsDoc.awareness)
    const buttons = this.buttonsDoc.doc
    const index = this.index.doc
    const settings = this.settingsDoc.doc
    this.#buttonsState = new YState(buttonsRoot(buttons), () => projectButtons(buttons))
    this.#indexState = new YState(scenariosRoot(index), () => projectScenarios(index))
    this.#settingsState = new YState(settingsRoot(settings), () => projectSettings(settings))
    this.#trashState = new YState(trashRoot(buttons), () => listTrash(buttons).filter((item): item is TrashedButton => item.kind === 'button'))
    this.undo = new UndoHistory([buttonsRoot(buttons), trashRoot(buttons), settingsRoot(settings)])
    // A delete changes the keyboards too, and undo takes that back with it.
    this.#targets = new ScenarioContents(source, space, (doc) => this.undo.track(scenarioRoot(doc)))
  }

  #buttons = $derived.by((): ButtonJson[] => Object.values(this.#buttonsState.current))
  #scenarios = $derived.by((): ScenarioIndexEntry[] => sortScenarios(this.#indexState.current))
  #trash = $derived.by(() => this.#trashState.current)
  #problems = $derived.by((): ProblemIndex => {
    if (!this.loaded) return ProblemIndex.empty
    return validateParts({ buttons: this.#buttonsState.current, scenarios: this.#indexState.current, scenarioDocs: this.#targets.contents }, ['buttons'])
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
    return this.#targets.contents
  }

  get problems(): ProblemIndex {
    return this.#problems
  }

  /** Every scenario's content and the settings are loaded, so "Used in" is complete. */
  get referencesLoaded(): boolean {
    return this.settingsDoc.loaded && this.#targets.loaded
  }

  /** The buttons deleted and kept in the trash, newest first. */
  get trash(): TrashedButton[] {
    return this.#trash
  }

  /** The steps whose keyboards show the button, and the main menu. */
  usedIn(buttonId: string): Reference[] {
    return buttonReferences({ settings: this.#settingsState.current, scenarioDocs: this.scenarioContents }, buttonId)
  }

  /** A scenario's step titles, by step id ({} until its document is loaded). */
  stepTitlesOf(scenarioId: string): Record<string, string> {
    const content = this.scenarioContents[scenarioId]
    return content ? stepTitles(content) : {}
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
    this.#targets.sync(scenarioIds)
  }

  /** Creates a button; returns its id, or an error message. A goto needs its scenario: nothing is picked for the author. */
  create(input: { id?: string; text: string; type: ButtonActionType | ''; scenarioId?: string }): { id: string } | { error: string } {
    if (this.readOnly) return { error: 'You can only view this space.' }
    if (input.type === '') return { error: 'Choose what the button does when pressed.' }
    if (input.type === 'goto' && !this.#indexState.current[input.scenarioId ?? '']) return { error: 'Choose the scenario the button goes to.' }
    const type = input.type
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
        action: defaultAction(type, input.scenarioId),
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

  /**
   * Deletes a button into the trash. Every keyboard and the main menu that
   * show it get `replaceWith` in its place, or lose it (null), first.
   */
  remove(id: string, replaceWith: string | null = null): void {
    if (this.readOnly) return
    const to = replaceWith !== null && replaceWith !== id && this.#buttonsState.current[replaceWith] ? replaceWith : null
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, gone when the method returns
    const scenarios = new Set(this.usedIn(id).flatMap((reference) => (reference.kind === 'keyboard' ? [reference.scenarioId] : [])))
    this.undo.together(() => {
      for (const scenarioId of scenarios) {
        const document = this.#targets.document(scenarioId)
        if (document && !document.readOnly) edit(document.doc, () => replaceButtonInKeyboards(document.doc, id, to))
      }
      const settings = this.settingsDoc.doc
      if (!this.settingsDoc.readOnly) edit(settings, () => replaceButtonInMainMenu(settings, id, to))
      edit(this.buttonsDoc.doc, () => trashButton(this.buttonsDoc.doc, id, { at: Date.now(), by: this.presence.me?.name }))
    })
  }

  /** Brings a deleted button back (not into the keyboards it left); returns its id. */
  restore(id: string): string | null {
    let restored: string | null = null
    this.#edit(() => (restored = restoreButton(this.buttonsDoc.doc, id)))
    return restored
  }

  emptyTrash(): void {
    this.#edit(() => emptyTrash(this.buttonsDoc.doc))
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
    this.#targets.destroy()
    this.#source.release(this.buttonsDoc)
    this.#source.release(this.index)
    this.#source.release(this.settingsDoc)
  }
}

// State of the Settings page: texts (Y.Text, merged while typed), flags and
// the main menu rows; buttons are loaded for labels and validation.
import {
  buttonsRoot,
  docName,
  getSettingsText,
  LINK_PREVIEWS_FLAG,
  linkPreviewsEnabled,
  projectButtons,
  projectSettings,
  setFlag,
  setMainMenu,
  setSettingsText,
  setTextPublic,
  settingsRoot,
  SETTINGS_TEXT_KEYS,
  type ButtonJson,
  type SettingsJson,
} from '@botsync/shared-docs'
import type * as Y from 'yjs'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { PresenceState } from '../presence/presence-state.svelte.ts'
import { ProblemIndex, validateParts } from '../validation/problem-index.ts'
import { edit } from '../yjs/edit-origin.ts'
import { UndoHistory } from '../yjs/undo-history.svelte.ts'
import { YState } from '../yjs/y-state.svelte.ts'

export const TEXT_LABELS: Record<string, { label: string; hint: string }> = {
  welcome: { label: 'Welcome message', hint: 'Sent on /start, above the main menu.' },
  fallback: { label: 'Fallback message', hint: 'Sent when the bot does not understand a message.' },
  maintenance: { label: 'Maintenance message', hint: 'Sent to everyone while the bot is switched off.' },
  inputInvalid: { label: 'Invalid answer message', hint: 'Sent when an answer does not match the expected kind.' },
}

export const FLAG_LABELS: Record<string, { label: string; hint: string }> = {
  botEnabled: { label: 'Bot enabled', hint: 'When off, the bot answers every message with the maintenance message.' },
  [LINK_PREVIEWS_FLAG]: { label: 'Link previews', hint: 'Telegram shows a preview card under a message with a link. When off, the bot asks Telegram not to.' },
}

export class SettingsState {
  readonly space: string
  readonly settingsDoc: OpenDocument
  readonly buttonsDoc: OpenDocument
  readonly presence: PresenceState
  readonly undo: UndoHistory
  readonly #source: DocumentSource
  readonly #settingsState: YState<SettingsJson>
  readonly #buttonsState: YState<Record<string, ButtonJson>>

  constructor(source: DocumentSource, space: string) {
    this.#source = source
    this.space = space
    this.settingsDoc = source.open(docName.settings(space))
    this.buttonsDoc = source.open(docName.buttons(space))
    this.presence = new PresenceState(this.settingsDoc.awareness)
    const settings = this.settingsDoc.doc
    const buttons = this.buttonsDoc.doc
    this.#settingsState = new YState(settingsRoot(settings), () => projectSettings(settings))
    this.#buttonsState = new YState(buttonsRoot(buttons), () => projectButtons(buttons))
    this.undo = new UndoHistory([settingsRoot(settings)])
  }

  #settings = $derived.by(() => this.#settingsState.current)
  #buttons = $derived.by(() => this.#buttonsState.current)
  #textKeys = $derived.by((): string[] => {
    const known: string[] = [...SETTINGS_TEXT_KEYS]
    return [
      ...known,
      ...Object.keys(this.#settings.texts)
        .filter((key) => !known.includes(key))
        .sort(),
    ]
  })
  // The known switches are listed even before a document holds them (linkPreviews reads as on while absent).
  #flagKeys = $derived.by((): string[] => {
    const present = Object.keys(this.#settings.flags)
    return [...present, ...Object.keys(FLAG_LABELS).filter((key) => !present.includes(key))].sort()
  })
  #problems = $derived.by((): ProblemIndex => (this.loaded ? validateParts({ settings: this.#settings, buttons: this.#buttons }, ['settings']) : ProblemIndex.empty))

  get settings(): SettingsJson {
    return this.#settings
  }

  /** The space's buttons, by id (main menu labels). */
  get buttons(): Record<string, ButtonJson> {
    return this.#buttons
  }

  /** The known texts first, in their usual order, then any others. */
  get textKeys(): string[] {
    return this.#textKeys
  }

  get flagKeys(): string[] {
    return this.#flagKeys
  }

  get problems(): ProblemIndex {
    return this.#problems
  }

  get loaded(): boolean {
    return this.settingsDoc.loaded && this.buttonsDoc.loaded
  }

  get readOnly(): boolean {
    return this.settingsDoc.readOnly
  }

  text(key: string): Y.Text | undefined {
    void this.settings
    return getSettingsText(this.settingsDoc.doc, key)
  }

  setText(key: string, value: string): void {
    this.#edit(() => setSettingsText(this.settingsDoc.doc, key, value), false)
  }

  /** Public texts are shown to everyone in the Mini App. */
  setTextPublic(key: string, isPublic: boolean): void {
    this.#edit(() => setTextPublic(this.settingsDoc.doc, key, isPublic))
  }

  isTextPublic(key: string): boolean {
    return this.settings.publicTexts.includes(key)
  }

  /** A switch as the bot reads it: linkPreviews is on unless switched off, any other flag off unless on. */
  flag(key: string): boolean {
    return key === LINK_PREVIEWS_FLAG ? linkPreviewsEnabled(this.settings.flags) : this.settings.flags[key] === true
  }

  setFlag(key: string, value: boolean): void {
    this.#edit(() => setFlag(this.settingsDoc.doc, key, value))
  }

  setMainMenu(rows: string[][]): void {
    this.#edit(() => setMainMenu(this.settingsDoc.doc, rows))
  }

  /** Typing merges into one undo step; a switch or a menu change is one of its own. */
  #edit(change: () => void, discrete = true): void {
    if (this.readOnly) return
    if (discrete) this.undo.stopCapturing()
    edit(this.settingsDoc.doc, change)
    if (discrete) this.undo.stopCapturing()
  }

  destroy(): void {
    this.undo.destroy()
    this.#source.release(this.settingsDoc)
    this.#source.release(this.buttonsDoc)
  }
}

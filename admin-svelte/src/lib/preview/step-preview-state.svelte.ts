// The live preview of a scenario's steps: each step as Telegram would draw
// it, built from the documents themselves — the scenario's content (message,
// formatting, media, keyboard), the buttons (labels and actions) and the
// settings (the linkPreviews switch) — through YState, whose createSubscriber
// observes them only while a preview is on screen. A co-editor's keystroke
// changes the Y.Text, the observer fires, the preview repaints.
import { buttonsRoot, projectButtons, projectScenario, projectSettings, scenarioRoot, settingsRoot, type ButtonJson, type ScenarioJson } from '@botsync/shared-docs'
import type { OpenDocument } from '../connection/open-document.ts'
import type { ProblemIndex } from '../validation/problem-index.ts'
import { YState } from '../yjs/y-state.svelte.ts'
import type { MediaThumbnails } from '../media/media-thumbnails.svelte.ts'
import { PreviewTheme } from './preview-theme.svelte.ts'
import { messageOfStep, type RenderedMessage } from './rendered-message.ts'

/** The parts of a step whose problems show on its preview (not `next` or `input`: those are not drawn). */
const DRAWN_PARTS = new Set(['message', 'entities', 'media', 'keyboard'])

export interface StepPreviewOptions {
  /** The scenario's content, the buttons and the settings, already open on the editor's page (shared, not opened twice). */
  content: OpenDocument
  buttonsDoc: OpenDocument
  settingsDoc: OpenDocument
  /** The page's validation (shared-docs' validateSpace), and the document name problems use. */
  problems: () => ProblemIndex
  problemDocument: string
  /** The page's media files as blob URLs, shared with the step's media panel. */
  thumbnails: MediaThumbnails
  userId?: string
}

export class StepPreviewState {
  readonly theme: PreviewTheme
  readonly thumbnails: MediaThumbnails
  readonly #problems: () => ProblemIndex
  readonly #problemDocument: string
  readonly #scenario: YState<ScenarioJson>
  readonly #buttons: YState<Record<string, ButtonJson>>
  readonly #flags: YState<Record<string, boolean>>

  constructor(options: StepPreviewOptions) {
    this.#problems = options.problems
    this.#problemDocument = options.problemDocument
    const content = options.content.doc
    const buttons = options.buttonsDoc.doc
    const settings = options.settingsDoc.doc
    this.#scenario = new YState(scenarioRoot(content), () => projectScenario(content))
    this.#buttons = new YState(buttonsRoot(buttons), () => projectButtons(buttons))
    this.#flags = new YState(settingsRoot(settings), () => projectSettings(settings).flags)
    this.theme = new PreviewTheme(options.userId)
    this.thumbnails = options.thumbnails
  }

  /** The step as Telegram draws it, with its problems; null when the step does not exist (any more). */
  message(stepId: string): RenderedMessage | null {
    const scenario = this.#scenario.current
    const step = Object.hasOwn(scenario.steps, stepId) ? scenario.steps[stepId] : undefined
    if (!step) return null
    const base = ['scenario', 'steps', stepId]
    const problems = this.#problems()
      .under(this.#problemDocument, base)
      .filter((problem) => DRAWN_PARTS.has(problem.path[base.length]))
    return messageOfStep(step, this.#buttons.current, this.#flags.current, problems)
  }
}

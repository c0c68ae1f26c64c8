// The live preview of a scenario's steps: each step as Telegram would draw
// it, built from the documents themselves — the scenario's content (message,
// formatting, media, keyboard), the buttons (labels and actions) and the
// settings (the linkPreviews switch) — through YState, whose createSubscriber
// observes them only while a preview is on screen. A co-editor's keystroke
// changes the Y.Text, the observer fires, the preview repaints.
import { projectSettings, settingsRoot } from '@botsync/shared-docs'
import type { ScenarioEditorState } from '../scenarios/scenario-editor-state.svelte.ts'
import { YState } from '../yjs/y-state.svelte.ts'
import type { MediaThumbnails } from '../media/media-thumbnails.svelte.ts'
import { PreviewTheme } from './preview-theme.svelte.ts'
import { messageOfStep, type RenderedMessage } from './rendered-message.ts'

/** The parts of a step whose problems show on its preview (not `next` or `input`: those are not drawn). */
const DRAWN_PARTS = new Set(['message', 'entities', 'media', 'keyboard'])

/**
 * The previews of one scenario editor's steps. The step and the buttons are
 * the editor's own projections (read, not projected a second time on every
 * keystroke); only the settings' flags are observed here.
 */
export class StepPreviewState {
  readonly theme: PreviewTheme
  readonly #editor: ScenarioEditorState
  readonly #flags: YState<Record<string, boolean>>

  constructor(editor: ScenarioEditorState, userId?: string) {
    this.#editor = editor
    const settings = editor.settingsDoc.doc
    this.#flags = new YState(settingsRoot(settings), () => projectSettings(settings).flags)
    this.theme = new PreviewTheme(userId)
  }

  /** The page's media files as blob URLs, shared with the step's media panel. */
  get thumbnails(): MediaThumbnails {
    return this.#editor.thumbnails
  }

  /** The step as Telegram draws it, with its problems; null when the step does not exist (any more). */
  message(stepId: string): RenderedMessage | null {
    const scenario = this.#editor.scenario
    const step = Object.hasOwn(scenario.steps, stepId) ? scenario.steps[stepId] : undefined
    if (!step) return null
    const base = ['scenario', 'steps', stepId]
    const problems = this.#editor.problems.under(this.#editor.problemDocument, base).filter((problem) => DRAWN_PARTS.has(problem.path[base.length]))
    return messageOfStep(step, this.#editor.buttons, this.#flags.current, problems)
  }
}

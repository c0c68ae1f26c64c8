import {
  entityPath,
  isEntityValid,
  problemsFor,
  scenarioDocument,
  sortScenarios,
  usableEntities,
  type ButtonJson,
  type FormattedText,
  type MediaInfo,
  type Problem,
  type ScenarioIndexEntry,
  type SpaceJson,
  type StepJson,
  type TriggerJson,
} from '@botsync/shared-docs'
import { miniAppBase, resolveWebAppUrl, type MiniAppBase } from './web-app-urls.ts'

/** Used when a settings text is missing or fails validation, so the bot always has something to say. */
export const DEFAULT_TEXTS: Readonly<Record<string, string>> = Object.freeze({
  welcome: 'Welcome!',
  fallback: "Sorry, I didn't get that. Send /start to see the menu.",
  maintenance: 'The bot is under maintenance right now. Please try again later.',
  inputInvalid: "That doesn't look right. Please try again.",
})

/**
 * A step's own content is unusable when its message, input spec or media is
 * broken (media not in the library, an album Telegram would refuse, …): such
 * a step cannot be reached, like any invalid entity. (An album's keyboard is
 * a keyboard problem; the runner sends it under the album, see MediaSender.)
 */
const STEP_BLOCKING_PARTS = new Set(['message', 'input', 'media'])

/**
 * One consistent reading of the space: the projection of the replica at one
 * moment plus its validation problems, with the questions the runner asks.
 * Every answer leaves out what failed validation — a broken button is not
 * shown, a broken step cannot be reached, a duplicate trigger does not fire —
 * so one bad entity never takes the rest of the bot down.
 */
export class SpaceContent {
  readonly space: SpaceJson
  readonly problems: readonly Problem[]
  private readonly miniApp: MiniAppBase

  constructor(space: SpaceJson, problems: readonly Problem[], miniApp: MiniAppBase = miniAppBase(undefined)) {
    this.space = space
    this.problems = problems
    this.miniApp = miniApp
  }

  /** A settings text, or the built-in default when it is missing or invalid. */
  text(key: string): string {
    const text = Object.hasOwn(this.space.settings.texts, key) ? this.space.settings.texts[key] : undefined
    if (text === undefined || !isEntityValid(this.problems, 'settings', entityPath.settingsText(key))) return DEFAULT_TEXTS[key] ?? ''
    return text
  }

  /** A settings text with its formatting (the entities Telegram accepts); a default text is plain. */
  formattedText(key: string): FormattedText {
    const text = this.text(key)
    const own = Object.hasOwn(this.space.settings.texts, key) && isEntityValid(this.problems, 'settings', entityPath.settingsText(key))
    const entities = (own && this.space.settings.textEntities?.[key]) || []
    return { text, entities: entities.length > 0 ? usableEntities(text, entities) : [] }
  }

  flag(key: string): boolean {
    return this.space.settings.flags[key] === true
  }

  mainMenu(): string[][] {
    return this.space.settings.mainMenu
  }

  /** What the space's media library says of a stored file (its name, type, dimensions), or null. */
  mediaInfo(id: string): MediaInfo | null {
    const library = this.space.media
    return library && Object.hasOwn(library, id) ? library[id] : null
  }

  /** A button that exists and passes validation. */
  button(id: string): ButtonJson | null {
    if (!Object.hasOwn(this.space.buttons, id)) return null
    if (!isEntityValid(this.problems, 'buttons', entityPath.button(id))) return null
    return this.space.buttons[id]
  }

  /**
   * The absolute URL Telegram gets for a web_app button: as written, or a page
   * of the bot's own Mini App resolved against MINIAPP_URL; null when there is
   * no MINIAPP_URL to resolve against (`button()` already leaves those out).
   */
  webAppUrl(url: string): string | null {
    return resolveWebAppUrl(url, this.miniApp)
  }

  /** An enabled scenario whose index entry and entry step are usable. */
  scenario(id: string): ScenarioIndexEntry | null {
    if (!Object.hasOwn(this.space.scenarios, id)) return null
    const entry = this.space.scenarios[id]
    if (!entry.enabled) return null
    if (this.entryStepId(id) === null) return null
    return entry
  }

  /** The entry step's id when that step is usable. */
  entryStepId(scenarioId: string): string | null {
    const content = Object.hasOwn(this.space.scenarioDocs, scenarioId) ? this.space.scenarioDocs[scenarioId] : undefined
    if (!content) return null
    return this.step(scenarioId, content.entryStepId) ? content.entryStepId : null
  }

  /** A step of an enabled scenario, unless its message or input is broken. */
  step(scenarioId: string, stepId: string): StepJson | null {
    if (!Object.hasOwn(this.space.scenarios, scenarioId) || !this.space.scenarios[scenarioId].enabled) return null
    const content = Object.hasOwn(this.space.scenarioDocs, scenarioId) ? this.space.scenarioDocs[scenarioId] : undefined
    if (!content || !Object.hasOwn(content.steps, stepId)) return null
    const base = entityPath.step(stepId)
    const blocking = problemsFor(this.problems, scenarioDocument(scenarioId), base).some((p) => STEP_BLOCKING_PARTS.has(p.path[base.length]))
    if (blocking) return null
    const step = content.steps[stepId]
    // A `next` that points nowhere is treated as the end of the scenario.
    if (step.next !== null && !Object.hasOwn(content.steps, step.next)) return { ...step, next: null }
    return step
  }

  /** The enabled scenario a trigger starts, first in index order; duplicates were reported by validation. */
  scenarioFor(kind: keyof TriggerJson, value: string): ScenarioIndexEntry | null {
    const wanted = kind === 'text' ? normaliseText(value) : value
    for (const entry of sortScenarios(this.space.scenarios)) {
      const trigger = entry.trigger[kind]
      if (trigger === undefined || (kind === 'text' ? normaliseText(trigger) : trigger) !== wanted) continue
      if (!isEntityValid(this.problems, 'scenarios', [...entityPath.scenarioEntry(entry.id), 'trigger', kind])) continue
      if (this.scenario(entry.id)) return entry
    }
    return null
  }
}

/** Text triggers match whatever the case and surrounding spaces: "Help " starts the "help" scenario. */
function normaliseText(text: string): string {
  return text.trim().toLowerCase()
}

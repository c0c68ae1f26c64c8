// Validation of what a page has loaded, and lookups of the problems that
// belong next to one field. All rules live in shared-docs; this file only
// assembles a SpaceJson from the parts a page has open.
import {
  problemsFor,
  projectSettings,
  validateSpace,
  type ButtonJson,
  type MediaInfo,
  type Problem,
  type ScenarioIndexEntry,
  type ScenarioJson,
  type SettingsJson,
} from '@botsync/shared-docs'
import * as Y from 'yjs'

export interface SpaceParts {
  settings?: SettingsJson
  buttons?: Record<string, ButtonJson>
  scenarios?: Record<string, ScenarioIndexEntry>
  scenarioDocs?: Record<string, ScenarioJson>
  /** The media library (`<space>/settings`' `media` map, projectMediaLibrary): needed wherever steps with media are shown, or their files read as missing. */
  media?: Record<string, MediaInfo>
}

let emptySettings: SettingsJson | null = null

/**
 * Validates the loaded parts and keeps the problems of `documents` (names
 * without the space: 'buttons', 'scenario/<id>', …). A page must load every
 * part its documents refer to (e.g. buttons for keyboards), or references
 * would be reported as missing.
 */
export function validateParts(parts: SpaceParts, documents: readonly string[]): ProblemIndex {
  emptySettings ??= projectSettings(new Y.Doc())
  const problems = validateSpace({
    settings: parts.settings ?? emptySettings,
    buttons: parts.buttons ?? {},
    scenarios: parts.scenarios ?? {},
    scenarioDocs: parts.scenarioDocs ?? {},
    ...(parts.media ? { media: parts.media } : {}),
  })
  return new ProblemIndex(problems.filter((problem) => documents.includes(problem.document)))
}

export class ProblemIndex {
  readonly all: readonly Problem[]

  constructor(problems: readonly Problem[]) {
    this.all = problems
  }

  static readonly empty = new ProblemIndex([])

  get count(): number {
    return this.all.length
  }

  /** Keeps only the index problems of one scenario (plus every non-index problem). */
  filterScenarioEntry(scenarioId: string): ProblemIndex {
    return new ProblemIndex(this.all.filter((problem) => problem.document !== 'scenarios' || problem.path[1] === scenarioId))
  }

  /** Problems whose path starts with `prefix`. */
  under(document: string, prefix: readonly string[]): Problem[] {
    return problemsFor(this.all, document, prefix)
  }

  /** Problems whose path is exactly `path`. */
  at(document: string, path: readonly string[]): Problem[] {
    return this.under(document, path).filter((problem) => problem.path.length === path.length)
  }
}

// What writing an export's content (or one scenario of it) into a space's
// documents takes, as a plan: which documents, in which order, and the
// change for each. The server runs the plan through its ServerWriter (an
// import, the API's restore); the admin runs it on its own open documents as
// a local edit, so the restoring admin can undo it with Ctrl+Z. One plan, so
// both write exactly the same thing.
import type * as Y from 'yjs'
import { buttonsRoot } from './buttons.ts'
import { docName } from './names.ts'
import { scenarioRoot } from './scenario.ts'
import { scenariosRoot } from './scenarios.ts'
import { settingsRoot } from './settings.ts'
import type { AnyYType } from './ytypes.ts'
import { importButtons, importScenario, importScenarioEntry, importScenarioIndex, importSettings, type ExportedScenario, type SpaceExportContent } from './space-export.ts'

export interface DocumentWrite {
  /** The document relative to the space: 'settings', 'buttons', 'scenarios' or 'scenario/<id>' (as SpaceChange.document). */
  kind: string
  /** The document's full name. */
  name: string
  /** The document's root type (what an undo manager tracks). */
  root(doc: Y.Doc): AnyYType
  /** Makes the document hold the content; writes nothing where it already does. */
  write(doc: Y.Doc): void
}

/**
 * Phases run one after the other; the writes of one phase may run at once.
 * Scenario contents come before the index, so a scenario appears in the
 * index only once its content is there.
 */
export type WritePlan = DocumentWrite[][]

function scenarioContentWrite(space: string, scenario: ExportedScenario): DocumentWrite {
  return { kind: `scenario/${scenario.id}`, name: docName.scenario(space, scenario.id), root: scenarioRoot, write: (doc) => importScenario(doc, scenario) }
}

/** The whole content: every scenario's document, then the buttons and the settings, then the index (scenarios not in `content` leave it). */
export function spaceContentPlan(space: string, content: SpaceExportContent): WritePlan {
  return [
    content.scenarios.map((scenario) => scenarioContentWrite(space, scenario)),
    [
      { kind: 'buttons', name: docName.buttons(space), root: buttonsRoot, write: (doc) => importButtons(doc, content.buttons) },
      { kind: 'settings', name: docName.settings(space), root: settingsRoot, write: (doc) => importSettings(doc, content.settings) },
    ],
    [{ kind: 'scenarios', name: docName.scenarios(space), root: scenariosRoot, write: (doc) => importScenarioIndex(doc, content.scenarios) }],
  ]
}

/** One scenario: its document, then its own index entry (the other entries are untouched). */
export function scenarioPlan(space: string, scenario: ExportedScenario): WritePlan {
  return [[scenarioContentWrite(space, scenario)], [{ kind: 'scenarios', name: docName.scenarios(space), root: scenariosRoot, write: (doc) => importScenarioEntry(doc, scenario) }]]
}

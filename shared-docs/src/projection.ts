// Y documents → plain JSON. Everything here tolerates missing or half-built
// maps (a doc still syncing, an older client) and returns defaults instead of
// throwing: the bot and the admin render from this on every update.
import * as Y from 'yjs'
import { parseActivityEvent, readCounters } from './activity.ts'
import { parseButtonAction } from './buttons.ts'
import { entitiesOf } from './formatting.ts'
import { projectMediaLibrary } from './media.ts'
import { isValidId } from './names.ts'
import { isKeyboardKind, parseStepInput, parseStepMedia } from './scenario.ts'
import { SETTINGS_FLAG_DEFAULTS, SETTINGS_TEXT_KEYS } from './settings.ts'
import { TRIGGER_KEYS } from './scenarios.ts'
import type {
  ActivityEvent,
  ActivityJson,
  ButtonJson,
  KeyboardJson,
  MessageEntity,
  ScenarioIndexEntry,
  ScenarioJson,
  SettingsJson,
  SpaceJson,
  StepJson,
  TriggerJson,
} from './types.ts'
import { asArray, asMap, readRows, readStrings } from './ytypes.ts'

export type * from './types.ts'

/**
 * Entries of an entity map whose key is a valid id. Other keys cannot have
 * been written by these accessors and could not be referenced anyway; one of
 * them ('__proto__') would even corrupt a plain object if used as a key.
 */
function entities(map: Y.Map<unknown> | undefined): [string, Y.Map<unknown>][] {
  const result: [string, Y.Map<unknown>][] = []
  map?.forEach((value, key) => {
    const entity = asMap(value)
    if (entity && isValidId(key)) result.push([key, entity])
  })
  // Sorted so the projection is the same on every replica, whatever the
  // Y.Map's internal iteration order.
  return result.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

export function projectSettings(doc: Y.Doc): SettingsJson {
  const root = doc.getMap<unknown>('settings')
  const texts: SettingsJson['texts'] = { welcome: '', fallback: '', maintenance: '', inputInvalid: '' }
  const textEntities: Record<string, MessageEntity[]> = {}
  asMap(root.get('texts'))?.forEach((value, key) => {
    if (!isValidId(key)) return
    const formatted = entitiesOf(value)
    texts[key] = formatted.text
    if (formatted.entities.length > 0) textEntities[key] = formatted.entities
  })
  for (const key of SETTINGS_TEXT_KEYS) texts[key] ??= ''
  const flags: SettingsJson['flags'] = { botEnabled: SETTINGS_FLAG_DEFAULTS.botEnabled ?? true }
  for (const [key, value] of Object.entries(SETTINGS_FLAG_DEFAULTS)) flags[key] = value
  asMap(root.get('flags'))?.forEach((value, key) => {
    if (isValidId(key) && typeof value === 'boolean') flags[key] = value
  })
  const publicTexts: string[] = []
  asMap(root.get('publicTexts'))?.forEach((value, key) => {
    if (isValidId(key) && value === true) publicTexts.push(key)
  })
  publicTexts.sort()
  const settings: SettingsJson = { texts, flags, mainMenu: readRows(root.get('mainMenu')), publicTexts }
  // Only when some text is formatted, so plain settings project as they always did.
  if (Object.keys(textEntities).length > 0) settings.textEntities = sortedKeys(textEntities)
  return settings
}

/** The same record with its keys sorted, so every replica serialises it alike. */
function sortedKeys<T>(record: Record<string, T>): Record<string, T> {
  const result: Record<string, T> = {}
  for (const key of Object.keys(record).sort()) result[key] = record[key]
  return result
}

export function projectButtons(doc: Y.Doc): Record<string, ButtonJson> {
  const result: Record<string, ButtonJson> = {}
  for (const [id, map] of entities(doc.getMap<unknown>('buttons'))) {
    const text = map.get('text')
    result[id] = { id, text: typeof text === 'string' ? text : '', action: parseButtonAction(map.get('action')) }
  }
  return result
}

function projectTrigger(value: unknown): TriggerJson {
  const map = asMap(value)
  const trigger: TriggerJson = {}
  for (const key of TRIGGER_KEYS) {
    const v = map?.get(key)
    if (typeof v === 'string' && v !== '') trigger[key] = v
  }
  return trigger
}

export function projectScenarios(doc: Y.Doc): Record<string, ScenarioIndexEntry> {
  const result: Record<string, ScenarioIndexEntry> = {}
  for (const [id, map] of entities(doc.getMap<unknown>('scenarios'))) {
    const title = map.get('title')
    const order = map.get('order')
    result[id] = {
      id,
      title: typeof title === 'string' ? title : '',
      enabled: map.get('enabled') === true,
      public: map.get('public') === true,
      trigger: projectTrigger(map.get('trigger')),
      order: typeof order === 'number' && Number.isFinite(order) ? order : 0,
    }
  }
  return result
}

/** Index entries by `order`, ties broken by id, so every replica lists them alike. */
export function sortScenarios(index: Record<string, ScenarioIndexEntry>): ScenarioIndexEntry[] {
  return Object.values(index).sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

function projectKeyboard(value: unknown): KeyboardJson {
  const map = asMap(value)
  const kind = map?.get('kind')
  return { kind: isKeyboardKind(kind) ? kind : 'inline', rows: readRows(map?.get('rows')) }
}

function projectStep(id: string, map: Y.Map<unknown>): StepJson {
  const next = map.get('next')
  const { text, entities } = entitiesOf(map.get('message'))
  const media = parseStepMedia(map.get('media'))
  const title = map.get('title')
  return {
    id,
    // Left out when unnamed, like entities and media.
    ...(typeof title === 'string' && title.trim() !== '' ? { title } : {}),
    message: text,
    // Left out when plain: exports and releases of unformatted steps stay as they were.
    ...(entities.length > 0 ? { entities } : {}),
    ...(media ? { media } : {}),
    keyboard: projectKeyboard(map.get('keyboard')),
    input: parseStepInput(map.get('input')),
    next: typeof next === 'string' && next !== '' ? next : null,
  }
}

export function projectScenario(doc: Y.Doc): ScenarioJson {
  const root = doc.getMap<unknown>('scenario')
  const steps: Record<string, StepJson> = {}
  for (const [id, map] of entities(asMap(root.get('steps')))) steps[id] = projectStep(id, map)
  // stepOrder may hold duplicates (concurrent moves) or miss steps (a step
  // added while another client rewrote the order): list each step once, in
  // stored order, then any unlisted steps by id.
  const seen = new Set<string>()
  const stepOrder: string[] = []
  for (const id of readStrings(root.get('stepOrder'))) {
    if (Object.hasOwn(steps, id) && !seen.has(id)) {
      seen.add(id)
      stepOrder.push(id)
    }
  }
  for (const id of Object.keys(steps).sort()) if (!seen.has(id)) stepOrder.push(id)
  const entry = root.get('entryStepId')
  return { entryStepId: typeof entry === 'string' ? entry : '', steps, stepOrder }
}

export function projectActivity(doc: Y.Doc): ActivityJson {
  const root = doc.getMap<unknown>('activity')
  // Old single counters plus every writer's part (see activity.ts).
  const counters: Record<string, number> = Object.fromEntries(readCounters(doc))
  const events = (asArray(root.get('events'))?.toArray() ?? []).map(parseActivityEvent).filter((e): e is ActivityEvent => e !== null)
  return { counters, events }
}

export interface SpaceDocs {
  settings: Y.Doc
  buttons: Y.Doc
  scenarios: Y.Doc
  /** Scenario content documents keyed by scenario id (not document name). */
  scenarioDocs: Map<string, Y.Doc>
}

export function projectSpace(docs: SpaceDocs): SpaceJson {
  const scenarioDocs: Record<string, ScenarioJson> = {}
  for (const [id, doc] of docs.scenarioDocs) {
    if (isValidId(id)) scenarioDocs[id] = projectScenario(doc)
  }
  // The library lives in the settings document; left out when empty, so a space without media projects as it always did.
  const media = projectMediaLibrary(docs.settings)
  return {
    settings: projectSettings(docs.settings),
    buttons: projectButtons(docs.buttons),
    scenarios: projectScenarios(docs.scenarios),
    scenarioDocs,
    ...(Object.keys(media).length > 0 ? { media } : {}),
  }
}

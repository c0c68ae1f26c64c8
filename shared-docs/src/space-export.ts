// A space as one JSON file: the versioned export format, its validation and
// its import. The content is the documents' JSON projections (projection.ts)
// rearranged into lists, so the format follows the projections instead of
// the Yjs layout; the import writes back only through the accessors, each of
// which leaves an unchanged value alone, so importing what a space already
// holds produces no Yjs update at all.
//
// Beside the content, a file carries the space's publish mode
// (`publishMode`, published.ts): an export always writes it, an import may
// leave it out (an older export), and then the space keeps its mode. There
// are no languages yet: the name `languages` is reserved at the top level
// and refused until a version defines it, so a newer file is never imported
// with part of it silently dropped.
import * as Y from 'yjs'
import { BUTTON_ACTION_TYPES, parseButtonAction, removeButton, setButton } from './buttons.ts'
import { isValidId } from './names.ts'
import { isPublishMode, PUBLISH_MODES, type PublishMode } from './published.ts'
import { projectButtons, projectScenario, projectScenarios, projectSettings, sortScenarios, type SpaceDocs } from './projection.ts'
import {
  MEDIA_ID_PATTERN,
  addStep,
  getStepOrder,
  getSteps,
  initScenarioDoc,
  isMediaKind,
  moveStep,
  removeStep,
  setEntryStep,
  setKeyboard,
  setStepInput,
  setStepMedia,
  setStepMessage,
  setStepNext,
  setStepTitle,
} from './scenario.ts'
import { addScenarioEntry, removeScenario, scenariosRoot, setTrigger, updateScenario } from './scenarios.ts'
import {
  getPublicTextsMap,
  getSettingsFlags,
  getSettingsTexts,
  removeFlag,
  removeSettingsText,
  SETTINGS_TEXT_KEYS,
  setFlag,
  setMainMenu,
  setSettingsText,
  setTextPublic,
} from './settings.ts'
import { isSpaceId } from './spaces.ts'
import {
  INPUT_KINDS,
  MEDIA_KINDS,
  MESSAGE_ENTITY_TYPES,
  type ButtonJson,
  type KeyboardJson,
  type MediaInfo,
  type MessageEntity,
  type ScenarioJson,
  type SettingsJson,
  type SpaceJson,
  type StepInput,
  type StepMedia,
  type TriggerJson,
} from './types.ts'
import { validateSpace, type Problem } from './validation.ts'

export const SPACE_EXPORT_FORMAT = 'botsync-space'
export const SPACE_EXPORT_VERSION = 1
/** The largest import body the server reads (POST /api/spaces/:space/import). */
export const SPACE_IMPORT_MAX_BYTES = 5 * 1024 * 1024
/** Top-level names a later version will define; refused in version 1. */
export const SPACE_EXPORT_RESERVED = ['languages'] as const

export interface ExportedStep {
  id: string
  /** The author's name for the step; absent when unnamed. */
  title?: string
  message: string
  /** The message's formatting (offsets in UTF-16 code units of `message`); absent when plain. */
  entities?: MessageEntity[]
  /**
   * The step's media by id (the files' sha256), absent when none. The file
   * carries no bytes: ids the importing space's library lacks are imported
   * and reported (`media-missing`), so the files can be uploaded after.
   */
  media?: StepMedia
  keyboard: KeyboardJson
  input: StepInput | null
  /** Id of a step of the same scenario, or null. */
  next: string | null
}

export interface ExportedScenario {
  id: string
  title: string
  trigger: TriggerJson
  enabled: boolean
  public: boolean
  order: number
  /** A step of `steps`; '' only when there are no steps. */
  entryStepId: string
  /** In display order. */
  steps: ExportedStep[]
}

export interface ExportedButton {
  id: string
  text: string
  action: NonNullable<ButtonJson['action']>
}

export interface SpaceExportContent {
  settings: SettingsJson
  /** Sorted by id. */
  buttons: ExportedButton[]
  /** In index order (order, then id). */
  scenarios: ExportedScenario[]
}

export interface SpaceExport {
  format: typeof SPACE_EXPORT_FORMAT
  version: typeof SPACE_EXPORT_VERSION
  /** Where it came from; informational: an import writes into the space it is posted to. */
  space: { id: string; name: string }
  /** ISO 8601. */
  exportedAt: string
  /** The space's publish mode when it was exported; an import applies it only when an owner imports. */
  publishMode: PublishMode
  content: SpaceExportContent
}

/** A file as an import reads it: `publishMode` may be left out (a file exported before it existed); the space then keeps its mode. */
export type SpaceExportFile = Omit<SpaceExport, 'publishMode'> & { publishMode?: PublishMode }

/** A problem of a file, at a path into it such as `content.scenarios[2].steps[0].message`. */
export interface ExportProblem {
  path: string
  code: string
  message: string
}

export type SpaceExportValidation = { ok: true; value: SpaceExportFile; warnings: ExportProblem[] } | { ok: false; problems: ExportProblem[] }

/** POST /api/spaces/:space/import: how many documents the import changed (0: the space already held the file); an owner's import that changed the publish mode counts `<space>/published` too. */
export interface SpaceImportResult {
  changed: number
  /** Problems the file may have and the drafts may hold too (an empty message, a missing button): imported, reported; and `publish-mode-not-applied` when an editor's file has another publish mode. */
  warnings: ExportProblem[]
}

/** A refused import's body (422). */
export interface SpaceImportRefusal {
  error: 'invalid-export'
  message: string
  problems: ExportProblem[]
}

export interface ExportSource {
  space: { id: string; name: string }
  docs: SpaceDocs
  /** The space's publish mode (getPublishMode of `<space>/published`); 'live' unless given. */
  publishMode?: PublishMode
  now?: Date
}

/** The space's content as an export, from the projections. Scenarios whose content document is not in `docs` export with no steps. */
export function exportSpace({ space, docs, publishMode = 'live', now = new Date() }: ExportSource): SpaceExport {
  const buttons = Object.values(projectButtons(docs.buttons))
    .filter((b): b is ButtonJson & { action: ExportedButton['action'] } => b.action !== null)
    .map(({ id, text, action }) => ({ id, text, action }))
  const scenarios = sortScenarios(projectScenarios(docs.scenarios)).map((entry): ExportedScenario => {
    const doc = docs.scenarioDocs.get(entry.id)
    const content: ScenarioJson = doc ? projectScenario(doc) : { entryStepId: '', steps: {}, stepOrder: [] }
    return {
      id: entry.id,
      title: entry.title,
      trigger: entry.trigger,
      enabled: entry.enabled,
      public: entry.public,
      order: entry.order,
      entryStepId: content.entryStepId,
      steps: content.stepOrder.map((id) => content.steps[id]),
    }
  })
  return {
    format: SPACE_EXPORT_FORMAT,
    version: SPACE_EXPORT_VERSION,
    space: { id: space.id, name: space.name },
    exportedAt: now.toISOString(),
    publishMode,
    content: { settings: projectSettings(docs.settings), buttons, scenarios },
  }
}

/** The export's content as the projections' shape, for validation.ts. */
export function exportToSpaceJson(content: SpaceExportContent, media?: Record<string, MediaInfo>): SpaceJson {
  const buttons: SpaceJson['buttons'] = {}
  for (const b of content.buttons) buttons[b.id] = { id: b.id, text: b.text, action: b.action }
  const scenarios: SpaceJson['scenarios'] = {}
  const scenarioDocs: SpaceJson['scenarioDocs'] = {}
  for (const s of content.scenarios) {
    scenarios[s.id] = { id: s.id, title: s.title, enabled: s.enabled, public: s.public, trigger: s.trigger, order: s.order }
    const steps: ScenarioJson['steps'] = {}
    for (const step of s.steps) steps[step.id] = step
    scenarioDocs[s.id] = { entryStepId: s.entryStepId, steps, stepOrder: s.steps.map((step) => step.id) }
  }
  return { settings: content.settings, buttons, scenarios, scenarioDocs, ...(media && Object.keys(media).length > 0 ? { media } : {}) }
}

// ---- validation ----------------------------------------------------------

/**
 * validation.ts' problems a space's drafts hold every day (a step not
 * written yet, a removed button still in a keyboard): an export of any real
 * space has them, so they are imported and reported, not refused. Every
 * other problem (a text over Telegram's limit, callback data too long, a bad
 * command or URL, a next step that does not exist) refuses the file.
 */
const DRAFT_CODES: ReadonlySet<string> = new Set([
  'message-empty',
  'button-text-empty',
  'keyboard-button-missing',
  'keyboard-button-unsupported',
  'goto-scenario-missing',
  'goto-step-missing',
  'trigger-duplicate',
  // The file names media by id only: whether the importing space has those
  // files (and of a size and kind that fit) is the space's, shown after.
  'media-missing',
  'media-kind-mismatch',
  'media-too-large',
])

type Json = unknown
type Obj = Record<string, Json>

const isObject = (value: Json): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value)

class Checker {
  readonly problems: ExportProblem[] = []

  add(path: string, code: string, message: string): void {
    this.problems.push({ path, code, message })
  }

  object(value: Json, path: string, required: readonly string[], optional: readonly string[] = []): value is Obj {
    if (!isObject(value)) {
      this.add(path, 'not-an-object', 'Must be an object.')
      return false
    }
    for (const key of required) if (!Object.hasOwn(value, key)) this.add(join(path, key), 'missing', 'Is missing.')
    for (const key of Object.keys(value)) {
      if (required.includes(key) || optional.includes(key)) continue
      if (path === '' && (SPACE_EXPORT_RESERVED as readonly string[]).includes(key)) {
        this.add(key, 'reserved-field', `"${key}" is reserved for a later version of the format; this server reads version ${SPACE_EXPORT_VERSION}.`)
      } else this.add(join(path, key), 'unknown-field', 'Is not part of the format.')
    }
    return true
  }

  string(value: Json, path: string): value is string {
    if (typeof value === 'string') return true
    this.add(path, 'not-a-string', 'Must be a string.')
    return false
  }

  boolean(value: Json, path: string): value is boolean {
    if (typeof value === 'boolean') return true
    this.add(path, 'not-a-boolean', 'Must be true or false.')
    return false
  }

  array(value: Json, path: string): value is Json[] {
    if (Array.isArray(value)) return true
    this.add(path, 'not-an-array', 'Must be an array.')
    return false
  }

  id(value: Json, path: string): value is string {
    if (isValidId(value)) return true
    this.add(path, 'id-invalid', 'Must be an id: 1–32 of A–Z a–z 0–9 _ -.')
    return false
  }

  rows(value: Json, path: string): boolean {
    if (!this.array(value, path)) return false
    let ok = true
    value.forEach((row, r) => {
      if (!this.array(row, `${path}[${r}]`)) ok = false
      else row.forEach((id, c) => (ok = this.string(id, `${path}[${r}][${c}]`) && ok))
    })
    return ok
  }

  integer(value: Json, path: string, min: number): value is number {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min) return true
    this.add(path, 'not-an-integer', `Must be a whole number of at least ${min}.`)
    return false
  }

  /** A list of formatting entities; that each fits its text and each link's URL is checked later, by validation.ts. */
  entities(value: Json, path: string): void {
    if (!this.array(value, path)) return
    value.forEach((entity, i) => {
      const at = `${path}[${i}]`
      if (!isObject(entity)) return this.add(at, 'not-an-object', 'Must be an object.')
      if (!(MESSAGE_ENTITY_TYPES as readonly Json[]).includes(entity.type)) {
        return this.add(`${at}.type`, 'entity-type-unknown', `Must be one of ${MESSAGE_ENTITY_TYPES.join(', ')}.`)
      }
      const required = ['type', 'offset', 'length', ...(entity.type === 'text_link' ? ['url'] : [])]
      if (!this.object(entity, at, required, entity.type === 'pre' ? ['language'] : [])) return
      this.integer(entity.offset, `${at}.offset`, 0)
      this.integer(entity.length, `${at}.length`, 1)
      if (Object.hasOwn(entity, 'url')) this.string(entity.url, `${at}.url`)
      if (Object.hasOwn(entity, 'language')) this.string(entity.language, `${at}.language`)
    })
  }

  /** Ids unique within a list; returns false if any repeats. */
  unique(items: Json[], path: string): boolean {
    const seen = new Set<string>()
    let ok = true
    items.forEach((item, i) => {
      const id = isObject(item) ? item.id : undefined
      if (typeof id !== 'string') return
      if (seen.has(id)) {
        this.add(`${path}[${i}].id`, 'duplicate-id', `Id "${id}" is used twice.`)
        ok = false
      }
      seen.add(id)
    })
    return ok
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function checkSettings(c: Checker, value: Json, path: string): void {
  if (!c.object(value, path, ['texts', 'flags', 'mainMenu', 'publicTexts'], ['textEntities'])) return
  if (c.object(value.texts, `${path}.texts`, SETTINGS_TEXT_KEYS, Object.keys(isObject(value.texts) ? value.texts : {}))) {
    for (const [key, text] of Object.entries(value.texts)) {
      if (c.id(key, `${path}.texts.${key}`)) c.string(text, `${path}.texts.${key}`)
    }
  }
  if (c.object(value.flags, `${path}.flags`, ['botEnabled'], Object.keys(isObject(value.flags) ? value.flags : {}))) {
    for (const [key, flag] of Object.entries(value.flags)) {
      if (c.id(key, `${path}.flags.${key}`)) c.boolean(flag, `${path}.flags.${key}`)
    }
  }
  if (Object.hasOwn(value, 'textEntities') && c.object(value.textEntities, `${path}.textEntities`, [], Object.keys(isObject(value.textEntities) ? value.textEntities : {}))) {
    const texts = isObject(value.texts) ? value.texts : {}
    for (const [key, entities] of Object.entries(value.textEntities)) {
      if (!c.id(key, `${path}.textEntities.${key}`)) continue
      if (!Object.hasOwn(texts, key)) c.add(`${path}.textEntities.${key}`, 'text-missing', `Text "${key}" does not exist.`)
      else c.entities(entities, `${path}.textEntities.${key}`)
    }
  }
  c.rows(value.mainMenu, `${path}.mainMenu`)
  if (c.array(value.publicTexts, `${path}.publicTexts`)) {
    const texts = isObject(value.texts) ? value.texts : {}
    value.publicTexts.forEach((key, i) => {
      if (c.string(key, `${path}.publicTexts[${i}]`) && !Object.hasOwn(texts, key)) c.add(`${path}.publicTexts[${i}]`, 'public-text-missing', `Text "${key}" does not exist.`)
    })
  }
}

function checkButton(c: Checker, value: Json, path: string): void {
  if (!c.object(value, path, ['id', 'text', 'action'])) return
  c.id(value.id, `${path}.id`)
  c.string(value.text, `${path}.text`)
  const action = value.action
  if (!isObject(action) || !(BUTTON_ACTION_TYPES as readonly Json[]).includes(action.type)) {
    c.add(`${path}.action`, 'action-invalid', `Must be an action: {"type": ${BUTTON_ACTION_TYPES.map((t) => `"${t}"`).join(' | ')}, …}.`)
    return
  }
  const fields: Record<string, [string[], string[]]> = {
    goto: [['type', 'scenarioId'], ['stepId']],
    url: [['type', 'url'], []],
    web_app: [['type', 'url'], []],
    callback: [['type', 'data'], []],
    back: [['type'], []],
    end: [['type'], []],
  }
  const [required, optional] = fields[action.type as string]
  if (!c.object(action, `${path}.action`, required, optional)) return
  for (const key of [...required, ...optional]) if (key !== 'type' && Object.hasOwn(action, key)) c.string(action[key], `${path}.action.${key}`)
  if (parseButtonAction(action) === null) c.add(`${path}.action`, 'action-invalid', 'Is not a valid action.')
}

function checkStep(c: Checker, value: Json, path: string): void {
  if (!c.object(value, path, ['id', 'message', 'keyboard', 'input', 'next'], ['title', 'entities', 'media'])) return
  c.id(value.id, `${path}.id`)
  if (Object.hasOwn(value, 'title')) c.string(value.title, `${path}.title`)
  c.string(value.message, `${path}.message`)
  if (Object.hasOwn(value, 'entities')) c.entities(value.entities, `${path}.entities`)
  if (Object.hasOwn(value, 'media')) checkStepMedia(c, value.media, `${path}.media`)
  if (c.object(value.keyboard, `${path}.keyboard`, ['kind', 'rows'])) {
    if (value.keyboard.kind !== 'inline' && value.keyboard.kind !== 'reply') c.add(`${path}.keyboard.kind`, 'keyboard-kind-invalid', 'Must be "inline" or "reply".')
    c.rows(value.keyboard.rows, `${path}.keyboard.rows`)
  }
  if (value.input !== null && c.object(value.input, `${path}.input`, ['var', 'kind'])) {
    c.string(value.input.var, `${path}.input.var`)
    if (!(INPUT_KINDS as readonly Json[]).includes(value.input.kind)) c.add(`${path}.input.kind`, 'input-kind-invalid', `Must be one of ${INPUT_KINDS.join(', ')}.`)
  }
  if (value.next !== null) c.string(value.next, `${path}.next`)
}

/** `{items: [{id, kind}, …]}` with at least one item; album rules and whether the files exist are validation.ts'. */
function checkStepMedia(c: Checker, value: Json, path: string): void {
  if (!c.object(value, path, ['items']) || !c.array(value.items, `${path}.items`)) return
  if (value.items.length === 0) c.add(`${path}.items`, 'media-empty', 'Leave media out instead of listing no items.')
  value.items.forEach((item, i) => {
    const at = `${path}.items[${i}]`
    if (!c.object(item, at, ['id', 'kind'])) return
    if (typeof item.id !== 'string' || !MEDIA_ID_PATTERN.test(item.id))
      c.add(`${at}.id`, 'media-id-invalid', 'Must be a media id: 64 lowercase hex digits (the sha256 of the file).')
    if (!isMediaKind(item.kind)) c.add(`${at}.kind`, 'media-kind-invalid', `Must be one of ${MEDIA_KINDS.join(', ')}.`)
  })
}

function checkScenario(c: Checker, value: Json, path: string): void {
  if (!c.object(value, path, ['id', 'title', 'trigger', 'enabled', 'public', 'order', 'entryStepId', 'steps'])) return
  c.id(value.id, `${path}.id`)
  c.string(value.title, `${path}.title`)
  if (c.object(value.trigger, `${path}.trigger`, [], ['command', 'text', 'deepLink'])) {
    for (const [key, trigger] of Object.entries(value.trigger)) {
      if (c.string(trigger, `${path}.trigger.${key}`) && trigger === '') c.add(`${path}.trigger.${key}`, 'trigger-empty', 'Leave the trigger out instead of making it empty.')
    }
  }
  c.boolean(value.enabled, `${path}.enabled`)
  c.boolean(value.public, `${path}.public`)
  if (typeof value.order !== 'number' || !Number.isFinite(value.order)) c.add(`${path}.order`, 'not-a-number', 'Must be a number.')
  c.string(value.entryStepId, `${path}.entryStepId`)
  if (!c.array(value.steps, `${path}.steps`)) return
  value.steps.forEach((step, i) => checkStep(c, step, `${path}.steps[${i}]`))
  c.unique(value.steps, `${path}.steps`)
}

/** `content.…` path of one of validation.ts' problems, by the entities' positions in the file. */
function problemPath(problem: Problem, content: SpaceExportContent): string {
  const index = (items: { id: string }[], id: string) => items.findIndex((item) => item.id === id)
  const tail = (parts: string[]) => parts.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join('')
  const [root, id, ...rest] = problem.path
  if (problem.document === 'settings') return `content${tail(problem.path)}`
  if (problem.document === 'buttons' && root === 'buttons') return `content.buttons[${index(content.buttons, id)}]${tail(rest)}`
  if (problem.document === 'scenarios' && root === 'scenarios') return `content.scenarios[${index(content.scenarios, id)}]${tail(rest)}`
  const scenarioId = problem.document.slice('scenario/'.length)
  const s = index(content.scenarios, scenarioId)
  const scenario = content.scenarios[s]
  // ['scenario', 'steps', stepId, ...] or ['scenario', 'entryStepId'].
  const [, kind, stepId, ...stepRest] = problem.path
  if (kind === 'steps' && scenario) return `content.scenarios[${s}].steps[${index(scenario.steps, stepId)}]${tail(stepRest)}`
  return `content.scenarios[${s}]${tail(problem.path.slice(1))}`
}

/**
 * Checks a parsed file: its shape and types first (unknown version, unknown
 * or missing fields, duplicate ids), then, on a well-formed file, the
 * references inside each scenario and validation.ts' Telegram limits. Never
 * throws; every problem has the path of the value it is about.
 */
export function validateSpaceExport(json: unknown, options: { media?: Record<string, MediaInfo> } = {}): SpaceExportValidation {
  const c = new Checker()
  if (!c.object(json, '', ['format', 'version', 'space', 'exportedAt', 'content'], ['publishMode'])) return { ok: false, problems: c.problems }
  if (json.format !== SPACE_EXPORT_FORMAT) c.add('format', 'format-unknown', `Must be "${SPACE_EXPORT_FORMAT}".`)
  if (json.version !== SPACE_EXPORT_VERSION) {
    c.add('version', 'version-unsupported', `Version ${JSON.stringify(json.version)} is not supported; this server reads version ${SPACE_EXPORT_VERSION}.`)
    return { ok: false, problems: c.problems }
  }
  if (c.object(json.space, 'space', ['id', 'name'])) {
    if (!isSpaceId(json.space.id)) c.add('space.id', 'space-invalid', 'Must be a space id: a–z 0–9 _ -, starting with a letter or digit.')
    c.string(json.space.name, 'space.name')
  }
  if (c.string(json.exportedAt, 'exportedAt') && Number.isNaN(Date.parse(json.exportedAt))) c.add('exportedAt', 'date-invalid', 'Must be an ISO 8601 date.')
  // Absent: the space keeps its mode.
  if (Object.hasOwn(json, 'publishMode') && !isPublishMode(json.publishMode)) {
    c.add('publishMode', 'publish-mode-invalid', `Must be ${PUBLISH_MODES.map((m) => `"${m}"`).join(' or ')}, or left out to keep the space's mode.`)
  }
  const content = json.content
  if (c.object(content, 'content', ['settings', 'buttons', 'scenarios'])) {
    checkSettings(c, content.settings, 'content.settings')
    if (c.array(content.buttons, 'content.buttons')) {
      content.buttons.forEach((b, i) => checkButton(c, b, `content.buttons[${i}]`))
      c.unique(content.buttons, 'content.buttons')
    }
    if (c.array(content.scenarios, 'content.scenarios')) {
      content.scenarios.forEach((s, i) => checkScenario(c, s, `content.scenarios[${i}]`))
      c.unique(content.scenarios, 'content.scenarios')
    }
  }
  if (c.problems.length > 0) return { ok: false, problems: c.problems }

  const value = json as unknown as SpaceExportFile
  value.content.scenarios.forEach((s, i) => {
    if (s.steps.length === 0 ? s.entryStepId !== '' : !s.steps.some((step) => step.id === s.entryStepId)) {
      c.add(
        `content.scenarios[${i}].entryStepId`,
        'entry-step-missing',
        s.steps.length === 0 ? 'Must be "" when there are no steps.' : `Step "${s.entryStepId}" is not in this scenario.`,
      )
    }
  })
  const warnings: ExportProblem[] = []
  for (const problem of validateSpace(exportToSpaceJson(value.content, options.media))) {
    // The entry step is checked above, with the no-steps case allowed.
    if (problem.code === 'entry-step-missing') continue
    const found = { path: problemPath(problem, value.content), code: problem.code, message: problem.message }
    if (DRAFT_CODES.has(problem.code)) warnings.push(found)
    else c.problems.push(found)
  }
  if (c.problems.length > 0) return { ok: false, problems: c.problems }
  return { ok: true, value, warnings }
}

// ---- import --------------------------------------------------------------

/** Makes the settings document hold exactly `settings`; unchanged values are not written. */
export function importSettings(doc: Y.Doc, settings: SettingsJson): void {
  doc.transact(() => {
    for (const key of [...(getSettingsTexts(doc)?.keys() ?? [])]) if (!Object.hasOwn(settings.texts, key)) removeSettingsText(doc, key)
    // A text the file has no formatting for becomes plain: the document holds exactly the file.
    for (const [key, text] of Object.entries(settings.texts)) setSettingsText(doc, key, text, settings.textEntities?.[key] ?? [])
    for (const key of [...(getSettingsFlags(doc)?.keys() ?? [])]) if (!Object.hasOwn(settings.flags, key)) removeFlag(doc, key)
    for (const [key, flag] of Object.entries(settings.flags)) setFlag(doc, key, flag)
    setMainMenu(doc, settings.mainMenu)
    const wanted = new Set(settings.publicTexts)
    for (const key of [...(getPublicTextsMap(doc)?.keys() ?? [])]) if (!wanted.has(key)) setTextPublic(doc, key, false)
    for (const key of wanted) setTextPublic(doc, key, true)
  })
}

/** Makes the buttons document hold exactly `buttons` (others are removed). */
export function importButtons(doc: Y.Doc, buttons: readonly ExportedButton[]): void {
  doc.transact(() => {
    const wanted = new Set(buttons.map((b) => b.id))
    for (const id of Object.keys(projectButtons(doc))) if (!wanted.has(id)) removeButton(doc, id)
    for (const b of buttons) setButton(doc, b.id, { text: b.text, action: b.action })
  })
}

/** Makes the scenario index hold exactly `scenarios` (others are removed from the index). */
export function importScenarioIndex(doc: Y.Doc, scenarios: readonly ExportedScenario[]): void {
  doc.transact(() => {
    const wanted = new Set(scenarios.map((s) => s.id))
    for (const id of Object.keys(projectScenarios(doc))) if (!wanted.has(id)) removeScenario(doc, id)
    for (const s of scenarios) importScenarioEntry(doc, s)
  })
}

/** Makes one index entry hold the scenario's title, trigger, switches and order, adding it if missing; other entries are untouched. */
export function importScenarioEntry(doc: Y.Doc, s: Omit<ExportedScenario, 'entryStepId' | 'steps'>): void {
  doc.transact(() => {
    if (!Object.hasOwn(projectScenarios(doc), s.id)) {
      // A non-entry value under the id (not a map) would make addScenarioEntry throw.
      if (scenariosRoot(doc).has(s.id)) scenariosRoot(doc).delete(s.id)
      addScenarioEntry(doc, s.id, { title: s.title, enabled: s.enabled, trigger: s.trigger, order: s.order })
    }
    updateScenario(doc, s.id, { title: s.title, enabled: s.enabled, public: s.public, order: s.order })
    setTrigger(doc, s.id, { command: s.trigger.command ?? null, text: s.trigger.text ?? null, deepLink: s.trigger.deepLink ?? null })
  })
}

/** Makes one scenario document hold exactly the scenario's steps, order and entry step. */
export function importScenario(doc: Y.Doc, scenario: Pick<ExportedScenario, 'entryStepId' | 'steps'>): void {
  doc.transact(() => {
    initScenarioDoc(doc)
    const wanted = new Set(scenario.steps.map((step) => step.id))
    for (const id of [...(getSteps(doc)?.keys() ?? [])]) if (!wanted.has(id)) removeStep(doc, id)
    for (const step of scenario.steps) {
      if (!getSteps(doc)?.has(step.id)) {
        addStep(doc, { id: step.id, title: step.title, message: step.message, entities: step.entities, keyboard: step.keyboard, input: step.input, next: step.next })
        if (step.media) setStepMedia(doc, step.id, step.media)
        continue
      }
      // Absent in the file: the step has none (a restore takes media off a step that had none then).
      setStepMedia(doc, step.id, step.media ?? null)
      setStepTitle(doc, step.id, step.title ?? '')
      setStepMessage(doc, step.id, step.message, step.entities ?? [])
      setKeyboard(doc, step.id, step.keyboard)
      setStepInput(doc, step.id, step.input)
      setStepNext(doc, step.id, step.next)
    }
    // Position by position: a step already in its place is not moved.
    scenario.steps.forEach((step, i) => {
      if (getStepOrder(doc)[i] !== step.id) moveStep(doc, step.id, i)
    })
    if (scenario.entryStepId !== '') setEntryStep(doc, scenario.entryStepId)
  })
}

/**
 * Writes a validated export into the space's documents: every scenario's
 * content (documents missing from `docs.scenarioDocs` are created there),
 * then buttons and settings, then the index, so a scenario appears only once
 * its content is there. Returns the documents it changed, by kind
 * ('settings', 'buttons', 'scenarios', 'scenario/<id>'). Only the content:
 * the file's publish mode is the server's to apply (an owner's import sets
 * it through the ReleasePublisher).
 */
export function applyImport(docs: SpaceDocs, value: Pick<SpaceExportFile, 'content'>, newDoc: () => Y.Doc = () => new Y.Doc()): string[] {
  const changed: string[] = []
  const track = (name: string, doc: Y.Doc, write: () => void) => {
    let touched = false
    const mark = () => (touched = true)
    doc.on('update', mark)
    try {
      write()
    } finally {
      doc.off('update', mark)
    }
    if (touched) changed.push(name)
  }
  for (const scenario of value.content.scenarios) {
    let doc = docs.scenarioDocs.get(scenario.id)
    if (!doc) {
      doc = newDoc()
      docs.scenarioDocs.set(scenario.id, doc)
    }
    const target = doc
    track(`scenario/${scenario.id}`, target, () => importScenario(target, scenario))
  }
  track('buttons', docs.buttons, () => importButtons(docs.buttons, value.content.buttons))
  track('settings', docs.settings, () => importSettings(docs.settings, value.content.settings))
  track('scenarios', docs.scenarios, () => importScenarioIndex(docs.scenarios, value.content.scenarios))
  return changed
}

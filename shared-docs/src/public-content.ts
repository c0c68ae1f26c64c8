// The `<space>/public` document: the projection of exactly what Mini App
// readers may read. The server derives it from the source documents (texts
// flagged public in settings, scenarios flagged public in the index, and
// those scenarios' step messages) and is its only writer; readers may open
// nothing else. A whole-document copy is needed because access is decided per
// document: a settings document with one public text still holds the others.
//
//   doc.getMap('public'):
//     texts:     Y.Map<string>   key → text (only public texts)
//     textEntities: Y.Map<MessageEntity[]>  key → the formatting of a public text that has any
//     scenarios: Y.Map<Y.Map>    scenarioId → { title: string, order: number, steps: PublicStepJson[] }
//                (a step's `entities` only when its message is formatted)
//     menu:      PublicMenuEntry[][]  the main menu's buttons that open a public scenario
import * as Y from 'yjs'
import { isValidId } from './names.ts'
import { sortScenarios } from './projection.ts'
import { MESSAGE_ENTITY_TYPES, type ButtonJson, type MessageEntity, type ScenarioIndexEntry, type ScenarioJson, type SettingsJson } from './types.ts'
import { asMap } from './ytypes.ts'

export interface PublicStepJson {
  id: string
  message: string
  /** The message's formatting, as the bot sends it; absent when plain. */
  entities?: MessageEntity[]
}

export interface PublicScenarioJson {
  id: string
  title: string
  order: number
  /** Step messages in the scenario's display order. */
  steps: PublicStepJson[]
}

/** A main-menu button as readers see it: its label and the public scenario it opens. */
export interface PublicMenuEntry {
  text: string
  scenarioId: string
}

export interface PublicContentJson {
  texts: Record<string, string>
  /** The formatting of public texts that have any, by key; absent when none has. */
  textEntities?: Record<string, MessageEntity[]>
  /** Sorted by order, then id. */
  scenarios: PublicScenarioJson[]
  /**
   * Rows of the main menu, keeping only buttons that go to a public scenario
   * (a button to a private flow, a callback or a link means nothing on the
   * page, and is not marked public); empty rows are dropped.
   */
  menu: PublicMenuEntry[][]
}

/** Ids of the scenarios flagged public, i.e. whose content documents feed the projection. */
export function publicScenarioIds(index: Record<string, ScenarioIndexEntry>): string[] {
  return sortScenarios(index)
    .filter((entry) => entry.public)
    .map((entry) => entry.id)
}

/**
 * What readers see, from the projections of the source documents. A public
 * scenario whose content is not loaded (yet) is listed with no steps.
 */
export function buildPublicContent(
  settings: SettingsJson,
  index: Record<string, ScenarioIndexEntry>,
  scenarioDocs: ReadonlyMap<string, ScenarioJson>,
  buttons: Record<string, ButtonJson> = {},
): PublicContentJson {
  const texts: Record<string, string> = {}
  const textEntities: Record<string, MessageEntity[]> = {}
  for (const key of settings.publicTexts) {
    if (!Object.hasOwn(settings.texts, key)) continue
    texts[key] = settings.texts[key]
    const entities = settings.textEntities?.[key]
    if (entities && entities.length > 0) textEntities[key] = entities
  }
  const scenarios = sortScenarios(index)
    .filter((entry) => entry.public)
    .map((entry): PublicScenarioJson => {
      const content = scenarioDocs.get(entry.id)
      const steps = content ? content.stepOrder.map((id) => publicStep(content.steps[id])) : []
      return { id: entry.id, title: entry.title, order: entry.order, steps }
    })
  const published = new Set(scenarios.map((s) => s.id))
  const menu = settings.mainMenu
    .map((row) =>
      row.flatMap((buttonId): PublicMenuEntry[] => {
        const action = Object.hasOwn(buttons, buttonId) ? buttons[buttonId].action : null
        return action?.type === 'goto' && published.has(action.scenarioId) ? [{ text: buttons[buttonId].text, scenarioId: action.scenarioId }] : []
      }),
    )
    .filter((row) => row.length > 0)
  return { texts, ...(Object.keys(textEntities).length > 0 ? { textEntities } : {}), scenarios, menu }
}

function publicStep(step: ScenarioJson['steps'][string]): PublicStepJson {
  return { id: step.id, message: step.message, ...(step.entities && step.entities.length > 0 ? { entities: step.entities } : {}) }
}

/** The public document's root map (the Mini App observes it). */
export function publicRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('public')
}

function childMap(parent: Y.Map<unknown>, key: string): Y.Map<unknown> {
  const existing = asMap(parent.get(key))
  if (existing) return existing
  const created = new Y.Map<unknown>()
  parent.set(key, created)
  return created
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * Makes the public document hold `content`, touching only keys whose value
 * changed, so an unchanged recomputation writes nothing and a text edit is one
 * small update for every reader.
 */
export function writePublicContent(doc: Y.Doc, content: PublicContentJson): void {
  doc.transact(() => {
    const root = publicRoot(doc)
    const texts = childMap(root, 'texts')
    for (const key of [...texts.keys()]) if (!Object.hasOwn(content.texts, key)) texts.delete(key)
    for (const [key, value] of Object.entries(content.texts)) if (texts.get(key) !== value) texts.set(key, value)
    const formats = content.textEntities ?? {}
    const textEntities = asMap(root.get('textEntities'))
    if (textEntities || Object.keys(formats).length > 0) {
      const map = textEntities ?? childMap(root, 'textEntities')
      for (const key of [...map.keys()]) if (!Object.hasOwn(formats, key)) map.delete(key)
      for (const [key, value] of Object.entries(formats)) if (!sameJson(map.get(key), value)) map.set(key, value)
    }

    const scenarios = childMap(root, 'scenarios')
    const wanted = new Set(content.scenarios.map((s) => s.id))
    for (const id of [...scenarios.keys()]) if (!wanted.has(id)) scenarios.delete(id)
    for (const scenario of content.scenarios) {
      const entry = childMap(scenarios, scenario.id)
      if (entry.get('title') !== scenario.title) entry.set('title', scenario.title)
      if (entry.get('order') !== scenario.order) entry.set('order', scenario.order)
      if (!sameJson(entry.get('steps'), scenario.steps)) entry.set('steps', scenario.steps)
    }
    if (!sameJson(root.get('menu') ?? [], content.menu)) root.set('menu', content.menu)
  })
}

const ENTITY_TYPES: ReadonlySet<unknown> = new Set(MESSAGE_ENTITY_TYPES)

/** Entities as stored by writePublicContent; anything else (an older or broken value) reads as no formatting. */
function readEntities(value: unknown): MessageEntity[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((e: Partial<MessageEntity> | null): MessageEntity[] => {
    if (!e || !ENTITY_TYPES.has(e.type) || !Number.isInteger(e.offset) || !Number.isInteger(e.length)) return []
    const entity: MessageEntity = { type: e.type!, offset: e.offset!, length: e.length! }
    if (typeof e.url === 'string') entity.url = e.url
    if (typeof e.language === 'string') entity.language = e.language
    return [entity]
  })
}

function readSteps(value: unknown): PublicStepJson[] {
  if (!Array.isArray(value)) return []
  return value
    .filter((s): s is PublicStepJson => typeof s?.id === 'string' && typeof s?.message === 'string')
    .map((s) => {
      const entities = readEntities(s.entities)
      return { id: s.id, message: s.message, ...(entities.length > 0 ? { entities } : {}) }
    })
}

function readMenu(value: unknown): PublicMenuEntry[][] {
  if (!Array.isArray(value)) return []
  return value
    .filter(Array.isArray)
    .map((row: unknown[]) =>
      row
        .filter((e): e is PublicMenuEntry => typeof (e as PublicMenuEntry)?.text === 'string' && isValidId((e as PublicMenuEntry)?.scenarioId))
        .map((e) => ({ text: e.text, scenarioId: e.scenarioId })),
    )
    .filter((row) => row.length > 0)
}

/** Reads the public document (the Mini App renders from this on every update). */
export function projectPublicContent(doc: Y.Doc): PublicContentJson {
  const root = publicRoot(doc)
  const texts: Record<string, string> = {}
  asMap(root.get('texts'))?.forEach((value, key) => {
    if (isValidId(key) && typeof value === 'string') texts[key] = value
  })
  const textEntities: Record<string, MessageEntity[]> = {}
  asMap(root.get('textEntities'))?.forEach((value, key) => {
    const entities = readEntities(value)
    if (Object.hasOwn(texts, key) && entities.length > 0) textEntities[key] = entities
  })
  const scenarios: PublicScenarioJson[] = []
  asMap(root.get('scenarios'))?.forEach((value, id) => {
    const entry = asMap(value)
    if (!entry || !isValidId(id)) return
    const title = entry.get('title')
    const order = entry.get('order')
    scenarios.push({
      id,
      title: typeof title === 'string' ? title : '',
      order: typeof order === 'number' && Number.isFinite(order) ? order : 0,
      steps: readSteps(entry.get('steps')),
    })
  })
  scenarios.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return { texts, ...(Object.keys(textEntities).length > 0 ? { textEntities } : {}), scenarios, menu: readMenu(root.get('menu')) }
}

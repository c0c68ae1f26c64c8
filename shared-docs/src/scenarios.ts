// The scenarios index document: `doc.getMap('scenarios')` maps scenarioId →
// Y.Map { title, enabled, trigger: Y.Map { command?, text?, deepLink? }, order }.
// The index is what makes a scenario exist; its content is a separate
// `scenario/<id>` document (scenario.ts) so editing one flow never loads all.
import * as Y from 'yjs'
import { isValidId, newId } from './names.ts'
import { addStep, initScenarioDoc, type StepInit } from './scenario.ts'
import type { TriggerJson } from './types.ts'
import { asMap } from './ytypes.ts'

export const TRIGGER_KEYS = ['command', 'text', 'deepLink'] as const
export type TriggerKey = (typeof TRIGGER_KEYS)[number]

export function scenariosRoot(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
  return doc.getMap<Y.Map<unknown>>('scenarios')
}

export function getScenarioEntry(doc: Y.Doc, id: string): Y.Map<unknown> | undefined {
  return asMap(scenariosRoot(doc).get(id))
}

/** One more than the highest order in use, so a new scenario sorts last. */
export function nextScenarioOrder(doc: Y.Doc): number {
  let max = -1
  scenariosRoot(doc).forEach((entry) => {
    const order = entry instanceof Y.Map ? entry.get('order') : undefined
    if (typeof order === 'number' && Number.isFinite(order) && order > max) max = order
  })
  return max + 1
}

export interface ScenarioMetaInit {
  title: string
  enabled?: boolean
  trigger?: TriggerJson
  order?: number
}

function cleanTrigger(trigger: TriggerJson | undefined): Partial<Record<TriggerKey, string>> {
  const result: Partial<Record<TriggerKey, string>> = {}
  for (const key of TRIGGER_KEYS) {
    const value = trigger?.[key]
    if (value !== undefined && typeof value !== 'string') throw new TypeError(`Trigger ${key} must be a string`)
    if (value) result[key] = value
  }
  return result
}

/** Adds an index entry, with its nested trigger map, in one transaction. */
export function addScenarioEntry(doc: Y.Doc, id: string, meta: ScenarioMetaInit): void {
  if (!isValidId(id)) throw new TypeError(`Invalid scenario id: ${JSON.stringify(id)}`)
  if (typeof meta.title !== 'string') throw new TypeError('Scenario title must be a string')
  const trigger = cleanTrigger(meta.trigger)
  doc.transact(() => {
    const root = scenariosRoot(doc)
    if (root.has(id)) throw new Error(`Scenario ${id} already exists`)
    const order = meta.order ?? nextScenarioOrder(doc)
    const entry = new Y.Map<unknown>()
    root.set(id, entry)
    entry.set('title', meta.title)
    // Disabled by default: a half-built flow should not reach users.
    entry.set('enabled', meta.enabled ?? false)
    const triggerMap = new Y.Map<string>()
    entry.set('trigger', triggerMap)
    for (const [key, value] of Object.entries(trigger)) triggerMap.set(key, value)
    entry.set('order', order)
  })
}

export interface CreateScenarioOptions extends ScenarioMetaInit {
  /** Defaults to a fresh id; name the scenario document after the returned id. */
  id?: string
  /** The first (entry) step; defaults to an empty step with a fresh id. */
  firstStep?: StepInit & { id?: string }
}

/**
 * Creates a scenario: its content document (skeleton + entry step) first,
 * then the index entry, each in one transaction. Content goes first so that a
 * reader who sees the new index entry can already find its content.
 */
export function createScenario(indexDoc: Y.Doc, scenarioDoc: Y.Doc, options: CreateScenarioOptions): { scenarioId: string; entryStepId: string } {
  const scenarioId = options.id ?? newId()
  if (!isValidId(scenarioId)) throw new TypeError(`Invalid scenario id: ${JSON.stringify(scenarioId)}`)
  if (getScenarioEntry(indexDoc, scenarioId)) throw new Error(`Scenario ${scenarioId} already exists`)
  // Check everything addScenarioEntry checks before writing anything: Yjs has
  // no rollback, and content without an index entry would be an orphan.
  if (typeof options.title !== 'string') throw new TypeError('Scenario title must be a string')
  cleanTrigger(options.trigger)
  let entryStepId = ''
  scenarioDoc.transact(() => {
    initScenarioDoc(scenarioDoc)
    entryStepId = addStep(scenarioDoc, options.firstStep ?? {})
  })
  addScenarioEntry(indexDoc, scenarioId, options)
  return { scenarioId, entryStepId }
}

/** Updates title / enabled / order in place; false if the scenario is gone. */
export function updateScenario(doc: Y.Doc, id: string, patch: { title?: string; enabled?: boolean; public?: boolean; order?: number }): boolean {
  const entry = getScenarioEntry(doc, id)
  if (!entry) return false
  doc.transact(() => {
    if (patch.title !== undefined && entry.get('title') !== patch.title) entry.set('title', patch.title)
    if (patch.enabled !== undefined && entry.get('enabled') !== patch.enabled) entry.set('enabled', patch.enabled)
    // A missing `public` reads as false: scenarios are private until published.
    if (patch.public !== undefined && (entry.get('public') === true) !== patch.public) entry.set('public', patch.public)
    if (patch.order !== undefined && entry.get('order') !== patch.order) entry.set('order', patch.order)
  })
  return true
}

/**
 * Patches the trigger: keys present in `patch` are set, and removed when
 * null or ''; absent keys are untouched (another admin may be editing them).
 */
export function setTrigger(doc: Y.Doc, id: string, patch: Partial<Record<TriggerKey, string | null>>): boolean {
  const entry = getScenarioEntry(doc, id)
  if (!entry) return false
  doc.transact(() => {
    let trigger = asMap(entry.get('trigger'))
    if (!trigger) {
      trigger = new Y.Map<unknown>()
      entry.set('trigger', trigger)
    }
    for (const key of TRIGGER_KEYS) {
      if (!(key in patch)) continue
      const value = patch[key]
      if (value === null || value === undefined || value === '') trigger.delete(key)
      else if (typeof value !== 'string') throw new TypeError(`Trigger ${key} must be a string`)
      else if (trigger.get(key) !== value) trigger.set(key, value)
    }
  })
  return true
}

/** Sets `order` to each id's position in `ids`; ids not in the index are ignored. */
export function reorderScenarios(doc: Y.Doc, ids: readonly string[]): void {
  doc.transact(() => {
    ids.forEach((id, index) => {
      const entry = getScenarioEntry(doc, id)
      if (entry && entry.get('order') !== index) entry.set('order', index)
    })
  })
}

/**
 * Removes the index entry, which is what makes the scenario disappear for the
 * bot and the admin. Deleting the content document is the server's job.
 */
export function removeScenario(doc: Y.Doc, id: string): boolean {
  const root = scenariosRoot(doc)
  if (!root.has(id)) return false
  root.delete(id)
  return true
}

// The trash: what was deleted from a document, kept in that same document
// (`doc.getMap('trash')`: id → one plain JSON value) until someone restores
// it or empties the trash. A step is kept in its scenario's document, a
// button in the buttons document, a scenario's index entry in the index
// (its content document is never deleted, so restoring the entry brings the
// steps back).
//
// Why not a view of the version history: versions are releases and
// checkpoints (at most one per CHECKPOINT_INTERVAL of editing), and a
// restore brings back a whole space or a whole scenario. A step made and
// deleted between two checkpoints is in no version, and no version can give
// back one step or one button without also rewinding everything else. The
// deleting transaction writes the trash entry, so both reach every admin (and
// an undo of the delete) together.
//
// The trash is a root of its own: projections, exports, releases, the change
// list and the bot read only the content roots, so nothing in the trash ever
// reaches a user of the bot.
import * as Y from 'yjs'
import { createButton, getButton, parseButtonAction, removeButton } from './buttons.ts'
import { isValidId, newId } from './names.ts'
import { projectButtons, projectScenario, projectScenarios } from './projection.ts'
import { addStep, getStep, getStepOrder, getSteps, parseStepInput, parseStepMedia, removeStep, setStepMedia } from './scenario.ts'
import { addScenarioEntry, getScenarioEntry, removeScenario, TRIGGER_KEYS } from './scenarios.ts'
import type { ButtonAction, MessageEntity, StepJson, TriggerJson } from './types.ts'
import { cloneJson } from './ytypes.ts'

export interface TrashMeta {
  /** When it was deleted (ms since the epoch). */
  at: number
  /** Who deleted it: a person's name, for "deleted by Ana". */
  by?: string
}

interface TrashedBase {
  /** The id it had, and the key of its trash entry. */
  id: string
  deletedAt: number
  deletedBy?: string
}

export interface TrashedStep extends TrashedBase {
  kind: 'step'
  step: StepJson
  /** Its place in the step order when deleted. */
  index: number
}

export interface TrashedButton extends TrashedBase {
  kind: 'button'
  button: { text: string; action: ButtonAction | null }
}

export interface TrashedScenario extends TrashedBase {
  kind: 'scenario'
  scenario: { title: string; enabled: boolean; public: boolean; trigger: TriggerJson; order: number }
}

export type TrashItem = TrashedStep | TrashedButton | TrashedScenario

export function trashRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('trash')
}

function base(id: string, meta: TrashMeta): TrashedBase {
  return { id, deletedAt: meta.at, ...(meta.by ? { deletedBy: meta.by } : {}) }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function readTrigger(value: unknown): TriggerJson {
  const trigger: TriggerJson = {}
  if (!isRecord(value)) return trigger
  for (const key of TRIGGER_KEYS) if (typeof value[key] === 'string' && value[key] !== '') trigger[key] = value[key]
  return trigger
}

/** A stored trash entry, or null when it is not one this version understands (it is then left alone). */
function parseTrashItem(id: string, value: unknown): TrashItem | null {
  if (!isRecord(value) || value.id !== id || typeof value.deletedAt !== 'number') return null
  const common: TrashedBase = { id, deletedAt: value.deletedAt, ...(typeof value.deletedBy === 'string' ? { deletedBy: value.deletedBy } : {}) }
  if (value.kind === 'step' && isRecord(value.step) && typeof value.step.message === 'string') {
    return { ...common, kind: 'step', step: value.step as unknown as StepJson, index: typeof value.index === 'number' ? value.index : Number.MAX_SAFE_INTEGER }
  }
  if (value.kind === 'button' && isRecord(value.button) && typeof value.button.text === 'string') {
    return { ...common, kind: 'button', button: { text: value.button.text, action: parseButtonAction(value.button.action) } }
  }
  if (value.kind === 'scenario' && isRecord(value.scenario) && typeof value.scenario.title === 'string') {
    const s = value.scenario
    return {
      ...common,
      kind: 'scenario',
      scenario: {
        title: s.title as string,
        enabled: s.enabled === true,
        public: s.public === true,
        trigger: readTrigger(s.trigger),
        order: typeof s.order === 'number' ? s.order : 0,
      },
    }
  }
  return null
}

/** What the document's trash holds, newest first. */
export function listTrash(doc: Y.Doc): TrashItem[] {
  const items: TrashItem[] = []
  trashRoot(doc).forEach((value, id) => {
    const item = parseTrashItem(id, value)
    if (item) items.push(item)
  })
  return items.sort((a, b) => b.deletedAt - a.deletedAt || (a.id < b.id ? -1 : 1))
}

/** Drops one entry from the trash for good. */
export function removeFromTrash(doc: Y.Doc, id: string): boolean {
  const root = trashRoot(doc)
  if (!root.has(id)) return false
  root.delete(id)
  return true
}

/** Drops everything in the document's trash for good. */
export function emptyTrash(doc: Y.Doc): number {
  const root = trashRoot(doc)
  const keys = [...root.keys()]
  doc.transact(() => {
    for (const key of keys) root.delete(key)
  })
  return keys.length
}

/** Deletes a step (removeStep: its place, `next`s to it, the entry moves on) and keeps it in the trash, in one transaction. */
export function trashStep(doc: Y.Doc, stepId: string, meta: TrashMeta): boolean {
  if (!getSteps(doc)?.has(stepId)) return false
  const step = projectScenario(doc).steps[stepId]
  const item: TrashedStep = { ...base(stepId, meta), kind: 'step', step: cloneJson(step), index: Math.max(0, getStepOrder(doc).indexOf(stepId)) }
  doc.transact(() => {
    trashRoot(doc).set(stepId, item)
    removeStep(doc, stepId)
  })
  return true
}

/**
 * Puts a trashed step back at its old place, with its message, formatting,
 * media, keyboard, answer and next step (dropped when that step is gone
 * meanwhile). Steps that pointed to it are not re-pointed: the delete asked
 * what to do with them. Returns the step's id (a fresh one if its old id was
 * taken meanwhile), or null when the trash has no such step.
 */
export function restoreStep(doc: Y.Doc, id: string): string | null {
  const item = parseTrashItem(id, trashRoot(doc).get(id))
  if (item?.kind !== 'step') return null
  const step = item.step
  const stepId = getStep(doc, id) || !isValidId(id) ? newId() : id
  const next = typeof step.next === 'string' && getSteps(doc)?.has(step.next) ? step.next : null
  const rows = Array.isArray(step.keyboard?.rows) ? step.keyboard.rows.filter((row) => Array.isArray(row)).map((row) => row.filter((cell) => typeof cell === 'string')) : []
  doc.transact(() => {
    addStep(doc, {
      id: stepId,
      index: item.index,
      ...(typeof step.title === 'string' ? { title: step.title } : {}),
      message: step.message,
      ...(Array.isArray(step.entities) ? { entities: step.entities as MessageEntity[] } : {}),
      keyboard: { kind: step.keyboard?.kind === 'reply' ? 'reply' : 'inline', rows },
      input: parseStepInput(step.input),
      next,
    })
    const media = parseStepMedia(step.media)
    if (media) setStepMedia(doc, stepId, media)
    trashRoot(doc).delete(id)
  })
  return stepId
}

/** Deletes a button and keeps it in the trash, in one transaction. Keyboards that show it are the caller's to change first. */
export function trashButton(doc: Y.Doc, id: string, meta: TrashMeta): boolean {
  if (!getButton(doc, id)) return false
  const button = projectButtons(doc)[id]
  const item: TrashedButton = { ...base(id, meta), kind: 'button', button: { text: button.text, action: button.action } }
  doc.transact(() => {
    trashRoot(doc).set(id, item)
    removeButton(doc, id)
  })
  return true
}

/** Brings a trashed button back (under a fresh id if its own was taken). A button whose action could not be read comes back as "End". */
export function restoreButton(doc: Y.Doc, id: string): string | null {
  const item = parseTrashItem(id, trashRoot(doc).get(id))
  if (item?.kind !== 'button') return null
  let restored = ''
  doc.transact(() => {
    restored = createButton(doc, {
      ...(getButton(doc, id) || !isValidId(id) ? {} : { id }),
      text: item.button.text,
      action: item.button.action ?? { type: 'end' },
    })
    trashRoot(doc).delete(id)
  })
  return restored
}

/** Removes a scenario's index entry and keeps it in the index's trash, in one transaction (its content document stays as it is). */
export function trashScenario(doc: Y.Doc, id: string, meta: TrashMeta): boolean {
  if (!getScenarioEntry(doc, id)) return false
  const entry = projectScenarios(doc)[id]
  const item: TrashedScenario = {
    ...base(id, meta),
    kind: 'scenario',
    scenario: { title: entry.title, enabled: entry.enabled, public: entry.public, trigger: cloneJson(entry.trigger), order: entry.order },
  }
  doc.transact(() => {
    trashRoot(doc).set(id, item)
    removeScenario(doc, id)
  })
  return true
}

/**
 * Puts a scenario's index entry back, which brings back its steps (their
 * document was kept). Null when the trash has no such scenario or its id is
 * in the index again (its content belongs to that entry now).
 */
export function restoreScenario(doc: Y.Doc, id: string): string | null {
  const item = parseTrashItem(id, trashRoot(doc).get(id))
  if (item?.kind !== 'scenario' || getScenarioEntry(doc, id)) return null
  const { title, enabled, trigger, order } = item.scenario
  doc.transact(() => {
    addScenarioEntry(doc, id, { title, enabled, trigger, order })
    if (item.scenario.public) getScenarioEntry(doc, id)?.set('public', true)
    trashRoot(doc).delete(id)
  })
  return id
}

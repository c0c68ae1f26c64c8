// One scenario document: `doc.getMap('scenario')` holds
//   entryStepId: string
//   steps: Y.Map<stepId, Y.Map {
//     title?: string    (the author's name for the step; see step-titles.ts)
//     message: Y.Text   (formatting as text attributes, see formatting.ts),
//     keyboard: Y.Map { kind: 'inline'|'reply', rows: Y.Array<Y.Array<buttonId>> },
//     input: null | { var, kind }   (one plain JSON value)
//     media?: null | { items: [{ id, kind }] }   (one plain JSON value; the message is then the caption)
//     next: string | null }>
//   stepOrder: Y.Array<stepId>
import * as Y from 'yjs'
import { setFormattedText } from './formatting.ts'
import { isValidId, newId } from './names.ts'
import { INPUT_KINDS, MEDIA_KINDS, type InputKind, type MediaKind, type StepMedia, type KeyboardJson, type KeyboardKind, type MessageEntity, type StepInput } from './types.ts'
import { asArray, asMap, asText, newRow, newRows, readRows, readStrings, replaceText, writeRows } from './ytypes.ts'

export function scenarioRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('scenario')
}

export function getSteps(doc: Y.Doc): Y.Map<Y.Map<unknown>> | undefined {
  return asMap(scenarioRoot(doc).get('steps')) as Y.Map<Y.Map<unknown>> | undefined
}

export function getStep(doc: Y.Doc, stepId: string): Y.Map<unknown> | undefined {
  return asMap(getSteps(doc)?.get(stepId))
}

export function getStepMessage(doc: Y.Doc, stepId: string): Y.Text | undefined {
  return asText(getStep(doc, stepId)?.get('message'))
}

export function getStepKeyboard(doc: Y.Doc, stepId: string): Y.Map<unknown> | undefined {
  return asMap(getStep(doc, stepId)?.get('keyboard'))
}

export function getStepOrderArray(doc: Y.Doc): Y.Array<string> | undefined {
  return asArray(scenarioRoot(doc).get('stepOrder')) as Y.Array<string> | undefined
}

/** '' when unset. */
export function getEntryStepId(doc: Y.Doc): string {
  const value = scenarioRoot(doc).get('entryStepId')
  return typeof value === 'string' ? value : ''
}

/** Step ids as stored in stepOrder (may hold duplicates after concurrent moves). */
export function getStepOrder(doc: Y.Doc): string[] {
  return readStrings(getStepOrderArray(doc))
}

export function isKeyboardKind(value: unknown): value is KeyboardKind {
  return value === 'inline' || value === 'reply'
}

/** A stored input spec, or null when absent or malformed. */
export function parseStepInput(value: unknown): StepInput | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  if (typeof v.var !== 'string') return null
  // An unknown kind reads as 'text', which accepts any answer: the step keeps
  // working instead of silently dropping its question.
  const kind: InputKind = (INPUT_KINDS as readonly unknown[]).includes(v.kind) ? (v.kind as InputKind) : 'text'
  return { var: v.var, kind }
}

/** A media id: the file's SHA-256, lowercase hex. */
export const MEDIA_ID_PATTERN = /^[0-9a-f]{64}$/

export function isMediaKind(value: unknown): value is MediaKind {
  return (MEDIA_KINDS as readonly unknown[]).includes(value)
}

/**
 * A stored media value, or null when absent or empty. Items that are not
 * `{id, kind}` with a known kind are dropped here; whether the rest exist,
 * fit an album and so on is validation's to say (validation.ts).
 */
export function parseStepMedia(value: unknown): StepMedia | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const items = (value as { items?: unknown }).items
  if (!Array.isArray(items)) return null
  const refs = items.flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) return []
    const { id, kind } = item as Record<string, unknown>
    return typeof id === 'string' && isMediaKind(kind) ? [{ id, kind }] : []
  })
  return refs.length > 0 ? { items: refs } : null
}

/**
 * Sets (or with null or no items, removes) a step's media: one plain JSON
 * value, so two admins choosing media at once end with one of the choices,
 * never a mix of both.
 */
export function setStepMedia(doc: Y.Doc, stepId: string, media: StepMedia | null): boolean {
  const step = getStep(doc, stepId)
  if (!step) return false
  const value = media && media.items.length > 0 ? { items: media.items.map(({ id, kind }) => ({ id, kind })) } : null
  for (const item of value?.items ?? []) {
    if (!MEDIA_ID_PATTERN.test(item.id) || !isMediaKind(item.kind)) throw new TypeError(`Malformed media item: ${JSON.stringify(item)}`)
  }
  if (JSON.stringify(step.get('media') ?? null) === JSON.stringify(value)) return true
  if (value === null) step.delete('media')
  else step.set('media', value)
  return true
}

function checkStepInput(input: StepInput | null): StepInput | null {
  if (input === null) return null
  if (typeof input !== 'object' || typeof input.var !== 'string' || !INPUT_KINDS.includes(input.kind)) {
    throw new TypeError(`Malformed step input: ${JSON.stringify(input)}`)
  }
  return { var: input.var, kind: input.kind }
}

function checkStepId(id: string): void {
  if (!isValidId(id)) throw new TypeError(`Invalid step id: ${JSON.stringify(id)}`)
}

function ensureSteps(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
  let steps = getSteps(doc)
  if (!steps) {
    steps = new Y.Map<Y.Map<unknown>>()
    scenarioRoot(doc).set('steps', steps)
  }
  return steps
}

function ensureStepOrder(doc: Y.Doc): Y.Array<string> {
  let order = getStepOrderArray(doc)
  if (!order) {
    order = new Y.Array<string>()
    scenarioRoot(doc).set('stepOrder', order)
  }
  return order
}

/**
 * Creates the missing parts of the skeleton in one transaction. Called by
 * createScenario for a brand-new document, before anyone else can edit it.
 */
export function initScenarioDoc(doc: Y.Doc): void {
  doc.transact(() => {
    ensureSteps(doc)
    ensureStepOrder(doc)
    if (typeof scenarioRoot(doc).get('entryStepId') !== 'string') scenarioRoot(doc).set('entryStepId', '')
  })
}

export interface StepInit {
  /** The step's name; leave it out to have it named by its first words. */
  title?: string
  message?: string
  /** The message's formatting, offsets into `message`. */
  entities?: readonly MessageEntity[]
  keyboard?: Partial<KeyboardJson>
  input?: StepInput | null
  next?: string | null
}

/**
 * Adds a step with all its nested Y types, built in one transaction so no
 * observer ever sees a half-made step. Inserts it into stepOrder at `index`
 * (default: end) and makes it the entry step if there is none. Returns its id.
 */
export function addStep(doc: Y.Doc, init: StepInit & { id?: string; index?: number } = {}): string {
  const id = init.id ?? newId()
  checkStepId(id)
  const input = checkStepInput(init.input ?? null)
  const kind = init.keyboard?.kind ?? 'inline'
  if (!isKeyboardKind(kind)) throw new TypeError(`Invalid keyboard kind: ${JSON.stringify(kind)}`)
  const next = init.next ?? null
  if (next !== null && typeof next !== 'string') throw new TypeError('Step next must be a step id or null')
  doc.transact(() => {
    const steps = ensureSteps(doc)
    if (steps.has(id)) throw new Error(`Step ${id} already exists`)
    const step = new Y.Map<unknown>()
    steps.set(id, step)
    if (init.title?.trim()) step.set('title', init.title.trim())
    const message = new Y.Text()
    step.set('message', message)
    if (init.message) setFormattedText(message, init.message, init.entities)
    const keyboard = new Y.Map<unknown>()
    step.set('keyboard', keyboard)
    keyboard.set('kind', kind)
    keyboard.set('rows', newRows(init.keyboard?.rows ?? []))
    step.set('input', input)
    step.set('next', next)
    const order = ensureStepOrder(doc)
    const at = init.index === undefined ? order.length : Math.max(0, Math.min(order.length, Math.trunc(init.index)))
    order.insert(at, [id])
    if (getEntryStepId(doc) === '') scenarioRoot(doc).set('entryStepId', id)
  })
  return id
}

/**
 * Removes a step, its place in stepOrder and any `next` pointing at it. If it
 * was the entry step, the first remaining step becomes the entry. Buttons in
 * other documents that goto this step are left for validation to report.
 */
export function removeStep(doc: Y.Doc, stepId: string): boolean {
  const steps = getSteps(doc)
  if (!steps?.has(stepId)) return false
  doc.transact(() => {
    steps.delete(stepId)
    const order = getStepOrderArray(doc)
    if (order) {
      for (let i = order.length - 1; i >= 0; i--) if (order.get(i) === stepId) order.delete(i, 1)
    }
    steps.forEach((step) => {
      if (step instanceof Y.Map && step.get('next') === stepId) step.set('next', null)
    })
    if (getEntryStepId(doc) === stepId) {
      const first = getStepOrder(doc).find((id) => steps.has(id)) ?? [...steps.keys()].sort()[0] ?? ''
      scenarioRoot(doc).set('entryStepId', first)
    }
  })
  return true
}

/**
 * Moves a step to `toIndex` in stepOrder (the index it has afterwards).
 * Y.Array has no move, so this is delete + insert; two concurrent moves of
 * the same step can leave it listed twice, which the projection dedupes.
 */
export function moveStep(doc: Y.Doc, stepId: string, toIndex: number): boolean {
  const order = getStepOrderArray(doc)
  if (!order || !getSteps(doc)?.has(stepId)) return false
  doc.transact(() => {
    for (let i = order.length - 1; i >= 0; i--) if (order.get(i) === stepId) order.delete(i, 1)
    const at = Math.max(0, Math.min(order.length, Math.trunc(toIndex)))
    order.insert(at, [stepId])
  })
  return true
}

export function setEntryStep(doc: Y.Doc, stepId: string): boolean {
  if (!getSteps(doc)?.has(stepId)) return false
  if (getEntryStepId(doc) !== stepId) scenarioRoot(doc).set('entryStepId', stepId)
  return true
}

/**
 * Sets a step's message, editing the Y.Text minimally. Without `entities`
 * only the text is set: the parts kept keep their formatting and inserted
 * text takes the formatting where it lands, as typing does. With `entities`
 * (an import, a restore) the formatting becomes exactly those.
 */
export function setStepMessage(doc: Y.Doc, stepId: string, text: string, entities?: readonly MessageEntity[]): boolean {
  const step = getStep(doc, stepId)
  if (!step) return false
  doc.transact(() => {
    let message = asText(step.get('message'))
    if (!message) {
      message = new Y.Text()
      step.set('message', message)
    }
    if (entities === undefined) replaceText(message, text)
    else setFormattedText(message, text, entities)
  })
  return true
}

function ensureKeyboard(step: Y.Map<unknown>): Y.Map<unknown> {
  let keyboard = asMap(step.get('keyboard'))
  if (!keyboard) {
    keyboard = new Y.Map<unknown>()
    step.set('keyboard', keyboard)
    keyboard.set('kind', 'inline')
  }
  return keyboard
}

function ensureRows(keyboard: Y.Map<unknown>): Y.Array<Y.Array<string>> {
  let rows = asArray(keyboard.get('rows')) as Y.Array<Y.Array<string>> | undefined
  if (!rows) {
    rows = new Y.Array<Y.Array<string>>()
    keyboard.set('rows', rows)
  }
  return rows
}

/** Sets the keyboard kind and/or rows; rows are rewritten only where they differ. */
export function setKeyboard(doc: Y.Doc, stepId: string, keyboard: Partial<KeyboardJson>): boolean {
  if (keyboard.kind !== undefined && !isKeyboardKind(keyboard.kind)) {
    throw new TypeError(`Invalid keyboard kind: ${JSON.stringify(keyboard.kind)}`)
  }
  const step = getStep(doc, stepId)
  if (!step) return false
  doc.transact(() => {
    const map = ensureKeyboard(step)
    if (keyboard.kind !== undefined && map.get('kind') !== keyboard.kind) map.set('kind', keyboard.kind)
    if (keyboard.rows !== undefined) writeRows(ensureRows(map), keyboard.rows)
  })
  return true
}

/** Appends a button id to row `row`, or to a new last row when `row` is omitted or past the end. */
export function addKeyboardButton(doc: Y.Doc, stepId: string, buttonId: string, row?: number): boolean {
  const step = getStep(doc, stepId)
  if (!step) return false
  doc.transact(() => {
    const rows = ensureRows(ensureKeyboard(step))
    const target = row === undefined ? undefined : asArray(rows.get(row))
    if (target) target.push([buttonId])
    else rows.push([newRow([buttonId])])
  })
  return true
}

/** Removes every occurrence of the button from the step's keyboard, dropping rows left empty. */
export function removeKeyboardButton(doc: Y.Doc, stepId: string, buttonId: string): boolean {
  const rows = asArray(getStepKeyboard(doc, stepId)?.get('rows'))
  if (!rows) return false
  let removed = false
  doc.transact(() => {
    for (let r = rows.length - 1; r >= 0; r--) {
      const row = asArray(rows.get(r))
      if (!row) continue
      let removedHere = false
      for (let c = row.length - 1; c >= 0; c--) {
        if (row.get(c) === buttonId) {
          row.delete(c, 1)
          removedHere = true
        }
      }
      // Only rows this call emptied are dropped; an empty row someone else
      // is about to fill stays.
      if (removedHere && row.length === 0) rows.delete(r, 1)
      removed ||= removedHere
    }
  })
  return removed
}

/** Current rows of a step's keyboard, as plain ids. */
export function getKeyboardRows(doc: Y.Doc, stepId: string): string[][] {
  return readRows(getStepKeyboard(doc, stepId)?.get('rows'))
}

export function setStepInput(doc: Y.Doc, stepId: string, input: StepInput | null): boolean {
  const value = checkStepInput(input)
  const step = getStep(doc, stepId)
  if (!step) return false
  // Rewriting an equal value would still be an update (and undo step) for every replica.
  if (JSON.stringify(step.get('input') ?? null) !== JSON.stringify(value)) step.set('input', value)
  return true
}

/** Names a step; an empty title removes the name (the step is then named by its first words). */
export function setStepTitle(doc: Y.Doc, stepId: string, title: string): boolean {
  if (typeof title !== 'string') throw new TypeError('Step title must be a string')
  const step = getStep(doc, stepId)
  if (!step) return false
  const value = title.trim()
  if (value === '') {
    if (step.has('title')) step.delete('title')
  } else if (step.get('title') !== value) step.set('title', value)
  return true
}

export function setStepNext(doc: Y.Doc, stepId: string, next: string | null): boolean {
  if (next !== null && typeof next !== 'string') throw new TypeError('Step next must be a step id or null')
  const step = getStep(doc, stepId)
  if (!step) return false
  if (step.get('next') !== next) step.set('next', next)
  return true
}

// The buttons document: `doc.getMap('buttons')` maps buttonId →
// Y.Map { text: string, action: ButtonAction }. The action is one plain JSON
// value: it is always replaced as a whole, so there is nothing to merge inside.
import * as Y from 'yjs'
import { isValidId, newId } from './names.ts'
import type { ButtonAction } from './types.ts'
import { asMap, cloneJson } from './ytypes.ts'

export const BUTTON_ACTION_TYPES = ['goto', 'url', 'web_app', 'callback', 'back', 'end'] as const

/**
 * Reads a stored action into a ButtonAction, or null when its shape is wrong
 * (unknown type, missing field). Field *contents* (URL scheme, byte length,
 * existing targets) are validation's business, not this function's.
 */
export function parseButtonAction(value: unknown): ButtonAction | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  switch (v.type) {
    case 'goto':
      if (typeof v.scenarioId !== 'string') return null
      if (v.stepId !== undefined && v.stepId !== null && typeof v.stepId !== 'string') return null
      return typeof v.stepId === 'string' && v.stepId !== '' ? { type: 'goto', scenarioId: v.scenarioId, stepId: v.stepId } : { type: 'goto', scenarioId: v.scenarioId }
    case 'url':
    case 'web_app':
      return typeof v.url === 'string' ? { type: v.type, url: v.url } : null
    case 'callback':
      return typeof v.data === 'string' ? { type: 'callback', data: v.data } : null
    case 'back':
    case 'end':
      return { type: v.type }
    default:
      return null
  }
}

function checkAction(action: ButtonAction): ButtonAction {
  const parsed = parseButtonAction(action)
  if (!parsed) throw new TypeError(`Malformed button action: ${JSON.stringify(action)}`)
  return cloneJson(parsed)
}

function checkButtonId(id: string): void {
  if (!isValidId(id)) throw new TypeError(`Invalid button id: ${JSON.stringify(id)}`)
}

export function buttonsRoot(doc: Y.Doc): Y.Map<Y.Map<unknown>> {
  return doc.getMap<Y.Map<unknown>>('buttons')
}

export function getButton(doc: Y.Doc, id: string): Y.Map<unknown> | undefined {
  return asMap(buttonsRoot(doc).get(id))
}

export function getButtonAction(doc: Y.Doc, id: string): ButtonAction | null {
  return parseButtonAction(getButton(doc, id)?.get('action'))
}

export interface ButtonInit {
  text: string
  action: ButtonAction
}

/**
 * Creates the button or updates it in place. Updating fields of the existing
 * map (rather than replacing the map) keeps a concurrent edit of the other
 * field by another admin.
 */
export function setButton(doc: Y.Doc, id: string, button: ButtonInit): void {
  checkButtonId(id)
  if (typeof button.text !== 'string') throw new TypeError('Button text must be a string')
  const action = checkAction(button.action)
  doc.transact(() => {
    const existing = getButton(doc, id)
    if (existing) {
      if (existing.get('text') !== button.text) existing.set('text', button.text)
      if (JSON.stringify(existing.get('action')) !== JSON.stringify(action)) existing.set('action', action)
      return
    }
    const map = new Y.Map<unknown>()
    buttonsRoot(doc).set(id, map)
    map.set('text', button.text)
    map.set('action', action)
  })
}

/** Creates a button under a fresh id (or `id` if given); returns the id. */
export function createButton(doc: Y.Doc, button: ButtonInit & { id?: string }): string {
  const id = button.id ?? newId()
  if (getButton(doc, id)) throw new Error(`Button ${id} already exists`)
  setButton(doc, id, button)
  return id
}

export function setButtonText(doc: Y.Doc, id: string, text: string): boolean {
  const map = getButton(doc, id)
  if (!map) return false
  if (map.get('text') !== text) map.set('text', text)
  return true
}

export function setButtonAction(doc: Y.Doc, id: string, action: ButtonAction): boolean {
  const map = getButton(doc, id)
  if (!map) return false
  map.set('action', checkAction(action))
  return true
}

/**
 * Removes the button. Keyboards in other documents that still list it are
 * left alone (they live in other docs); validation reports them as dangling.
 */
export function removeButton(doc: Y.Doc, id: string): boolean {
  const root = buttonsRoot(doc)
  if (!root.has(id)) return false
  root.delete(id)
  return true
}

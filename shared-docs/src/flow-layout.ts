// Where each step sits on a scenario's flow map, so co-editors see the same
// map. A second root type of the scenario document, `doc.getMap('layout')`:
//   stepId → { x: number, y: number }   (one plain JSON value, replaced whole)
//
// A root type rather than a map nested in `scenario`: Yjs root types exist in
// every replica without being created, whereas two admins who each create a
// nested map at once (the first drag on an older scenario) would keep only
// one of the two maps and lose the other's positions.
//
// Nothing the bot, validation, the projections or an export read looks at
// this map: layout never changes what the bot does. A deleted step's entry is
// left in place, so the step comes back where it was if the delete is undone
// or a version restores it; readers only ask for the steps that exist.
import type * as Y from 'yjs'
import { isValidId } from './names.ts'

export interface FlowPosition {
  x: number
  y: number
}

/** Positions are kept within this many pixels of the origin; a drag never goes near it. */
export const FLOW_POSITION_LIMIT = 1_000_000

export function flowLayoutMap(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('layout')
}

/** A stored position, or null when it is missing or not two finite numbers. */
export function parseFlowPosition(value: unknown): FlowPosition | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const { x, y } = value as Record<string, unknown>
  if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) return null
  return { x, y }
}

/**
 * The stored positions, by step id. With `stepIds`, only those steps' (the
 * steps that exist); a malformed entry reads as no position (the map places
 * that step itself).
 */
export function getFlowPositions(doc: Y.Doc, stepIds?: Iterable<string>): Record<string, FlowPosition> {
  const map = flowLayoutMap(doc)
  const result: Record<string, FlowPosition> = {}
  const ids = stepIds ? [...stepIds] : [...map.keys()].sort()
  for (const id of ids) {
    if (!isValidId(id)) continue
    const position = parseFlowPosition(map.get(id))
    if (position) result[id] = position
  }
  return result
}

function checkPosition(stepId: string, position: FlowPosition): FlowPosition {
  if (!isValidId(stepId)) throw new TypeError(`Invalid step id: ${JSON.stringify(stepId)}`)
  const parsed = parseFlowPosition(position)
  if (!parsed || Math.abs(parsed.x) > FLOW_POSITION_LIMIT || Math.abs(parsed.y) > FLOW_POSITION_LIMIT) {
    throw new TypeError(`Malformed map position: ${JSON.stringify(position)}`)
  }
  // Whole pixels: nobody places a card more finely, and the update stays small.
  return { x: Math.round(parsed.x), y: Math.round(parsed.y) }
}

/**
 * Stores where steps sit, all in one transaction (a drag of several selected
 * nodes, or "Arrange"). A position equal to the stored one is not rewritten:
 * it would still be an update, and an undo step, for every replica.
 * Returns how many positions changed.
 */
export function setFlowPositions(doc: Y.Doc, positions: Record<string, FlowPosition>): number {
  const checked = Object.entries(positions).map(([id, position]) => [id, checkPosition(id, position)] as const)
  const map = flowLayoutMap(doc)
  let changed = 0
  doc.transact(() => {
    for (const [id, position] of checked) {
      const stored = parseFlowPosition(map.get(id))
      if (stored && stored.x === position.x && stored.y === position.y) continue
      map.set(id, position)
      changed++
    }
  })
  return changed
}

export function setFlowPosition(doc: Y.Doc, stepId: string, position: FlowPosition): boolean {
  return setFlowPositions(doc, { [stepId]: position }) > 0
}

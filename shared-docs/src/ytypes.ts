// Small helpers shared by the accessors: tolerant reads of Y values that a
// buggy or older client may have left in an unexpected shape, and writes that
// change as little as possible so concurrent edits merge well.
import * as Y from 'yjs'

export function asMap(value: unknown): Y.Map<unknown> | undefined {
  return value instanceof Y.Map ? (value as Y.Map<unknown>) : undefined
}

export function asArray(value: unknown): Y.Array<unknown> | undefined {
  return value instanceof Y.Array ? (value as Y.Array<unknown>) : undefined
}

export function asText(value: unknown): Y.Text | undefined {
  return value instanceof Y.Text ? value : undefined
}

/** Text content of a Y.Text (or, tolerated, a plain string); '' otherwise. */
export function readText(value: unknown): string {
  if (value instanceof Y.Text) return value.toString()
  return typeof value === 'string' ? value : ''
}

/**
 * Any shared type (Y.Map, Y.Array, Y.Text…). Yjs types its event handlers
 * invariantly, so `Y.AbstractType<unknown>` accepts none of them: `any` is
 * the only event type every concrete type is assignable to.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type AnyYType = Y.AbstractType<any>

/** Runs `fn` in one transaction when the type is attached to a doc. */
export function transactOn(type: AnyYType, fn: () => void): void {
  if (type.doc) type.doc.transact(fn)
  else fn()
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff

/**
 * Replaces the content of a Y.Text by deleting and inserting only the changed
 * middle part. Rewriting the whole text would make a concurrent edit by
 * another admin land next to a duplicate of the old text.
 */
export function replaceText(text: Y.Text, next: string): void {
  const prev = text.toString()
  if (prev === next) return
  const max = Math.min(prev.length, next.length)
  let start = 0
  while (start < max && prev.charCodeAt(start) === next.charCodeAt(start)) start++
  // Never cut a surrogate pair in half: Y.Text indexes UTF-16 code units.
  if (start > 0 && isHigh(prev.charCodeAt(start - 1))) start--
  let endPrev = prev.length
  let endNext = next.length
  while (endPrev > start && endNext > start && prev.charCodeAt(endPrev - 1) === next.charCodeAt(endNext - 1)) {
    endPrev--
    endNext--
  }
  if (endPrev < prev.length && isLow(prev.charCodeAt(endPrev))) {
    endPrev++
    endNext++
  }
  transactOn(text, () => {
    if (endPrev > start) text.delete(start, endPrev - start)
    if (endNext > start) text.insert(start, next.slice(start, endNext))
  })
}

/** Rows of ids from a Y.Array<Y.Array<string>> (plain arrays tolerated). */
export function readRows(value: unknown): string[][] {
  const rows = value instanceof Y.Array ? value.toArray() : Array.isArray(value) ? value : []
  // A malformed row is kept as [] so row indices (used in problem paths)
  // stay the same as in the document.
  return rows.map((row: unknown) => readStrings(row))
}

export function readStrings(value: unknown): string[] {
  const items = value instanceof Y.Array ? value.toArray() : Array.isArray(value) ? value : []
  return items.filter((item: unknown): item is string => typeof item === 'string')
}

export function newRow(ids: readonly string[]): Y.Array<string> {
  const row = new Y.Array<string>()
  row.push([...ids])
  return row
}

function sameStrings(a: readonly unknown[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i])
}

/** Builds a fresh rows array; for a parent that is being created. */
export function newRows(rows: readonly (readonly string[])[]): Y.Array<Y.Array<string>> {
  const result = new Y.Array<Y.Array<string>>()
  result.push(rows.map(newRow))
  return result
}

/**
 * Makes `target` hold `rows`, touching only rows that differ, so an edit of
 * one row does not conflict with another admin's edit of a different row.
 */
export function writeRows(target: Y.Array<Y.Array<string>>, rows: readonly (readonly string[])[]): void {
  transactOn(target, () => {
    if (target.length > rows.length) target.delete(rows.length, target.length - rows.length)
    rows.forEach((row, i) => {
      if (i >= target.length) {
        target.push([newRow(row)])
        return
      }
      const existing: unknown = target.get(i)
      if (existing instanceof Y.Array) {
        if (!sameStrings(existing.toArray(), row)) {
          existing.delete(0, existing.length)
          existing.insert(0, [...row])
        }
      } else {
        target.delete(i, 1)
        target.insert(i, [newRow(row)])
      }
    })
  })
}

/** Deep copy of a plain JSON value, so callers cannot alias stored values. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/**
 * A Y.Doc that only holds a state for a moment (to project it, diff it,
 * re-encode it) and is never given to a provider. Y.Doc's default guid is
 * a uuidv4 that lib0 builds from one crypto call per hex digit; reading a
 * 200-scenario space made hundreds of such docs, and those calls were the
 * largest item in a publish's profile. A scratch doc's guid is never read.
 */
export function scratchDoc(): Y.Doc {
  return new Y.Doc({ guid: 'botsync-scratch' })
}

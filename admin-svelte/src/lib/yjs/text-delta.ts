// Where an index (a caret) ends up after a Y.Text change, computed from the
// change's delta. Used to keep the caret of the admin who is typing in place
// when another admin's edit lands in the same text.

export type TextDelta = ReadonlyArray<{ insert?: unknown; delete?: number; retain?: number }>

function insertLength(insert: unknown): number {
  return typeof insert === 'string' ? insert.length : 1
}

/**
 * @param index  a position in the text before the change
 * @param delta  the Y.YTextEvent delta
 * @param assoc  where an insertion exactly at `index` goes: 'after' keeps the
 *               index before it (the end of a selection uses 'before')
 */
export function transformIndex(index: number, delta: TextDelta, assoc: 'before' | 'after' = 'after'): number {
  let position = 0 // position in the old text walked so far
  let result = index
  for (const op of delta) {
    if (op.retain !== undefined) {
      position += op.retain
    } else if (op.insert !== undefined) {
      const length = insertLength(op.insert)
      if (position < index || (position === index && assoc === 'before')) result += length
    } else if (op.delete !== undefined) {
      const start = position
      const end = position + op.delete
      if (end <= index) result -= op.delete
      else if (start < index) result -= index - start
      position = end
    }
    if (position > index) break
  }
  return Math.max(0, result)
}

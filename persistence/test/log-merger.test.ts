import { getPriority } from 'node:os'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { INLINE_MERGE_MAX_ROWS, LogMerger } from '../src/index.ts'
import { docFrom, edit } from './helpers.ts'

/** Rows as readDocument packs them: 8-byte id, 4-byte length, the update. */
function pack(updates: Uint8Array[]): Uint8Array {
  const packed = new Uint8Array(updates.reduce((sum, update) => sum + 12 + update.byteLength, 0))
  const view = new DataView(packed.buffer)
  let at = 0
  updates.forEach((update, i) => {
    view.setUint32(at + 4, i + 1)
    view.setUint32(at + 8, update.byteLength)
    packed.set(update, at + 12)
    at += 12 + update.byteLength
  })
  return packed
}

describe('LogMerger', () => {
  // nice(2) per thread is Linux's; elsewhere piscina's niceIncrement is a no-op.
  it.runIf(process.platform === 'linux')('folds loads at the event loop’s priority and only compaction niced', async () => {
    const doc = new Y.Doc()
    const updates = Array.from({ length: INLINE_MERGE_MAX_ROWS + 1 }, (_, i) => edit(doc, (d) => d.getArray('a').push([i])))
    const size = { rows: updates.length, bytes: updates.reduce((sum, update) => sum + update.byteLength, 0) }
    const merger = new LogMerger({ maxThreads: 1 })
    try {
      const load = await merger.merge({ snapshot: null, pages: [pack(updates)] }, size)
      const compaction = await merger.merge({ snapshot: null, pages: [pack(updates)] }, { ...size, priority: 'background' })
      expect([load.where, compaction.where]).toEqual(['worker', 'worker'])
      expect(docFrom(load.state).getArray('a').length).toBe(updates.length)
      expect(docFrom(compaction.state).getArray('a').length).toBe(updates.length)
      const own = getPriority()
      expect(load.niceness).toBe(own)
      expect(compaction.niceness).toBe(Math.min(19, own + 10))
    } finally {
      await merger.close()
    }
  })
})

import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { transformIndex } from '../src/lib/yjs/text-delta.ts'

describe('transformIndex', () => {
  it('moves a caret past text inserted before it, not past text inserted after it', () => {
    expect(transformIndex(5, [{ retain: 2 }, { insert: 'abc' }])).toBe(8)
    expect(transformIndex(5, [{ retain: 7 }, { insert: 'abc' }])).toBe(5)
    expect(transformIndex(0, [{ insert: 'abc' }])).toBe(0)
  })

  it('keeps a caret before an insertion at its own position unless told otherwise', () => {
    expect(transformIndex(5, [{ retain: 5 }, { insert: 'xy' }], 'after')).toBe(5)
    expect(transformIndex(5, [{ retain: 5 }, { insert: 'xy' }], 'before')).toBe(7)
  })

  it('pulls a caret back over deleted text, and onto the start of a deletion it was inside', () => {
    expect(transformIndex(5, [{ retain: 1 }, { delete: 2 }])).toBe(3)
    expect(transformIndex(5, [{ retain: 3 }, { delete: 4 }])).toBe(3)
    expect(transformIndex(5, [{ retain: 6 }, { delete: 4 }])).toBe(5)
  })

  it('agrees with Yjs for a real concurrent edit', () => {
    const a = new Y.Doc()
    const text = a.getText('t')
    text.insert(0, 'Hello world')
    let delta: any[] = []
    text.observe((event) => (delta = event.delta as any[]))
    const caret = 'Hello '.length // before "world"
    const b = new Y.Doc()
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    b.getText('t').insert(0, 'Oh, ')
    b.getText('t').delete('Oh, Hello'.length, ' world'.length)
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
    expect(text.toString()).toBe('Oh, Hello')
    expect(transformIndex(caret, delta)).toBe('Oh, Hello'.length)
  })
})

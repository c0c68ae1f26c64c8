import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocumentSizes, onlyDeletesKnownContent, REMEASURE_INTERVAL_MS } from '../src/writes/document-size.ts'
import { TokenBucket, UpdateRate } from '../src/writes/update-rate.ts'

describe('DocumentSizes', () => {
  it('measures the document before refusing, so overlapping updates do not count twice', () => {
    const doc = new Y.Doc()
    const sizes = new DocumentSizes(2000)
    sizes.track('d', doc, 0)
    const text = doc.getText('t')
    // The same 1,500 characters written and deleted twice: the estimate adds
    // every update, the real state keeps only tombstones.
    for (let i = 0; i < 2; i++) {
      text.insert(0, 'x'.repeat(1500))
      text.delete(0, 1500)
    }
    expect(sizes.estimate('d')).toBeGreaterThan(2000)
    const real = Y.encodeStateAsUpdate(doc).byteLength
    expect(real).toBeLessThan(500)
    expect(sizes.reserve('d', 1000, performance.now() + REMEASURE_INTERVAL_MS)).toBe(true)
    expect(sizes.estimate('d')).toBe(real + 1000)
    // Past the limit for real: refused.
    expect(sizes.reserve('d', 1000, performance.now() + 2 * REMEASURE_INTERVAL_MS)).toBe(false)
    sizes.release('d', 1000)
    expect(sizes.estimate('d')).toBe(real)
  })
})

describe('onlyDeletesKnownContent', () => {
  it('is true only for deletions of content the document has', () => {
    const doc = new Y.Doc()
    doc.clientID = 1
    doc.getText('t').insert(0, 'hello')
    const writer = new Y.Doc()
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc))
    let update: Uint8Array | null = null
    writer.on('update', (u: Uint8Array) => (update = u))
    writer.getText('t').delete(0, 3)
    expect(onlyDeletesKnownContent(doc, update!)).toBe(true)
    writer.getText('t').insert(0, 'x')
    expect(onlyDeletesKnownContent(doc, update!)).toBe(false)
    // Deletions of clocks the document lacks would stay pending and grow it.
    const other = new Y.Doc()
    other.clientID = 2
    other.getText('t').insert(0, 'abc')
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(other))
    writer.getText('t').delete(0, writer.getText('t').length)
    expect(onlyDeletesKnownContent(doc, update!)).toBe(false)
  })
})

describe('UpdateRate', () => {
  it('allows a burst, then the rate; refusals beyond the abuse allowance are abusive', () => {
    const rate = new UpdateRate({ perSecond: 2, burst: 3 })
    const socket = {}
    const at = 1000
    expect([1, 2, 3].map(() => rate.take(socket, at))).toEqual(['accepted', 'accepted', 'accepted'])
    expect(rate.take(socket, at)).toBe('refused')
    expect(rate.msUntilAccepted(socket, at)).toBe(500)
    expect(rate.take(socket, at + 500)).toBe('accepted')
    let decision = 'refused'
    let refusals = 0
    while (decision === 'refused') {
      decision = rate.take(socket, at + 500)
      refusals += 1
    }
    expect(decision).toBe('abusive')
    expect(refusals).toBe(101)
    // Another socket has its own bucket.
    expect(rate.take({}, at + 500)).toBe('accepted')
  })

  it('is off at 0 updates per second', () => {
    const rate = new UpdateRate({ perSecond: 0, burst: 1 })
    const socket = {}
    expect(Array.from({ length: 1000 }, () => rate.take(socket, 0)).every((d) => d === 'accepted')).toBe(true)
  })

  it('refills a bucket up to its capacity, not beyond', () => {
    const bucket = new TokenBucket(10, 2, 0)
    expect(bucket.take(0) && bucket.take(0)).toBe(true)
    expect(bucket.take(0)).toBe(false)
    expect([bucket.take(60_000), bucket.take(60_000), bucket.take(60_000)]).toEqual([true, true, false])
  })
})

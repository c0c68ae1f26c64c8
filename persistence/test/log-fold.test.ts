import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { foldLog, integrationProblem, PIECES_MIN_STATE_BYTES, type LogRow } from '../src/index.ts'
import { edit } from './helpers.ts'

/** Client 778, clock 0: an item whose origin is its own future clock 5. It decodes, and Y.applyUpdate throws on it. */
const POISON = new Uint8Array([0x01, 0x01, 0x8a, 0x06, 0x00, 0x84, 0x8a, 0x06, 0x05, 0x04, 0x65, 0x76, 0x69, 0x6c, 0x00])

function typed(count: number): { doc: Y.Doc; rows: LogRow[] } {
  const doc = new Y.Doc()
  const rows = Array.from({ length: count }, (_, i) => ({ id: 100 + i, update: edit(doc, (d) => d.getText('t').insert(i, String(i % 10))) }))
  return { doc, rows }
}

function hex(bytes: string): Uint8Array {
  return new Uint8Array(Buffer.from(bytes, 'hex'))
}

function text(state: Uint8Array): string {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc.getText('t').toString()
}

describe('foldLog', () => {
  it('folds a snapshot and the rows after it into the same state as applying them', () => {
    const { doc, rows } = typed(2500)
    const snapshot = foldLog(null, rows.slice(0, 1000), integrationProblem).state
    const folded = foldLog(snapshot, rows.slice(1000), integrationProblem)
    expect(folded.rejected).toEqual([])
    expect(text(folded.state)).toBe(doc.getText('t').toString())
  })

  it('skips a row the integration check refuses and reports it', () => {
    const { doc, rows } = typed(30)
    const log = [...rows.slice(0, 15), { id: 1, update: POISON }, ...rows.slice(15)]
    const folded = foldLog(null, log, integrationProblem)
    expect(folded.rejected).toEqual([{ id: 1, problem: expect.stringMatching(/^self-reference: /) }])
    expect(text(folded.state)).toBe(doc.getText('t').toString())
  })

  it('rebuilds without a row whose apply throws when the check lets it through', () => {
    const { doc, rows } = typed(30)
    const log = [...rows.slice(0, 15), { id: 1, update: POISON }, ...rows.slice(15)]
    const folded = foldLog(null, log, () => null)
    expect(folded.rejected).toEqual([{ id: 1, problem: expect.stringMatching(/^apply-threw: /) }])
    expect(text(folded.state)).toBe(doc.getText('t').toString())
  })

  it('keeps what is pending in its pieces: an update that waits for another arrives later and its content appears', () => {
    // A large document (it comes back in pieces) and, from a second client, a
    // reply typed after a word of a third client's that the log does not have yet.
    const big = new Y.Doc()
    const noise = (i: number) => `${i}:${Math.sin(i).toString(36)}${Math.cos(i).toString(36)}`
    const rows = [
      {
        id: 100,
        update: edit(big, (d) => {
          for (let i = 0; i < 3000; i++) d.getMap('m').set(`k${i}`, noise(i))
        }),
      },
    ]
    const early = new Y.Doc()
    early.clientID = 4242
    const first = edit(early, (d) => d.getText('t').insert(0, 'first '))
    const late = new Y.Doc()
    late.clientID = 4343
    Y.applyUpdate(late, first)
    const reply = edit(late, (d) => d.getText('t').insert(6, 'reply'))
    const folded = foldLog(null, [...rows, { id: 1, update: reply }], integrationProblem, { pieces: true })
    expect(folded.pieces).toBeDefined()
    const loaded = new Y.Doc()
    for (const piece of folded.pieces!) Y.applyUpdate(loaded, piece)
    Y.applyUpdate(loaded, first)
    expect(loaded.getText('t').toString()).toBe('first reply')
    expect(loaded.getMap('m').size).toBe(3000)
  })

  it('blames the row that throws, not the rows that left something pending', () => {
    // Found by the fuzz suite (reduced): a GC range 1001:0+3 arrives beside
    // structs of client 1002 that wait as pending; then an item 1001:0+10
    // continues after the GC, and Y.applyUpdate throws on it.
    const withPending = hex('0202ea07030701057374657073050661696d77666d83ea0700067eb3b44e335c01e90700000301ec0703010408030102')
    const overGc = hex('0101e9070004010574651f74730d047f5411c2bd22c3b9c39b396600')
    const after = new Y.Doc()
    Y.applyUpdate(after, withPending)
    expect(after.store.pendingStructs).not.toBeNull()
    expect(integrationProblem(after, overGc)).toMatch(/^overlaps-collected: /)
    const { doc, rows } = typed(10)
    const log = [{ id: 1, update: withPending }, ...rows.slice(0, 5), { id: 2, update: overGc }, ...rows.slice(5)]
    // Without the check, the fold's second line of defence finds the same row.
    expect(foldLog(null, log, () => null).rejected).toEqual([{ id: 2, problem: expect.stringMatching(/^apply-threw: /) }])
    const folded = foldLog(null, log, integrationProblem)
    expect(folded.rejected).toEqual([{ id: 2, problem: expect.stringMatching(/^overlaps-collected: /) }])
    expect(text(folded.state)).toBe(doc.getText('t').toString())
  })

  it('throws when the snapshot itself does not apply (nothing to skip)', () => {
    expect(() => foldLog(POISON, typed(3).rows, integrationProblem)).toThrow()
  })

  it('returns a large state also as pieces that, applied in order, rebuild it exactly', () => {
    // Three people taking turns (client ids coming back), each typing into the others' text, deleting now and then.
    const doc = new Y.Doc()
    const rows: LogRow[] = []
    doc.on('update', (update: Uint8Array) => rows.push({ id: rows.length + 1, update }))
    const text = doc.getText('t')
    for (let i = 0; i < 30_000; i++) {
      if (i % 500 === 0) doc.clientID = 1000 + ((i / 500) % 3)
      if (i % 7 === 3) text.delete((i * 31) % text.length, 1)
      else text.insert((i * 17) % (text.length + 1), String.fromCharCode(97 + (i % 26)))
    }
    const folded = foldLog(null, rows, integrationProblem, { pieces: true })
    expect(folded.state.byteLength).toBeGreaterThanOrEqual(PIECES_MIN_STATE_BYTES)
    expect(folded.pieces!.length).toBeGreaterThan(3)
    const rebuilt = new Y.Doc()
    // In causal order: no piece waits for a later one (pending pieces are re-merged with every later one).
    const pending = folded.pieces!.map((piece) => {
      Y.applyUpdate(rebuilt, piece)
      return rebuilt.store.pendingStructs !== null
    })
    expect(pending.every((waiting) => !waiting)).toBe(true)
    expect(rebuilt.getText('t').toString()).toBe(text.toString())
    expect(Y.encodeStateVector(rebuilt)).toEqual(Y.encodeStateVector(doc))
    expect(Y.equalDeleteSets(Y.createDeleteSetFromStructStore(rebuilt.store), Y.createDeleteSetFromStructStore(docFromState(folded.state).store))).toBe(true)
    // Small states come whole.
    expect(foldLog(null, rows.slice(0, 100), integrationProblem, { pieces: true }).pieces).toBeUndefined()
  })
})

function docFromState(state: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc
}

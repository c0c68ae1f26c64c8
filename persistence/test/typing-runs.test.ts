import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { foldLog, integrationProblem, unpackLog, type LogRow } from '../src/index.ts'
import { TypingRuns } from '../src/typing-runs.ts'

/** Client 778, clock 0: a typed-looking item whose origin is its own future clock 5 (Y.applyUpdate throws on it). */
const POISON = new Uint8Array([0x01, 0x01, 0x8a, 0x06, 0x00, 0x84, 0x8a, 0x06, 0x05, 0x04, 0x65, 0x76, 0x69, 0x6c, 0x00])

/** Records every update `doc` makes, one row each. */
function recorder(doc: Y.Doc, rows: LogRow[]): void {
  doc.on('update', (update: Uint8Array) => rows.push({ id: rows.length + 1, update }))
}

/** The doc the rows make applied one by one, as a server that received them live. */
function applied(rows: LogRow[]): Y.Doc {
  const doc = new Y.Doc()
  for (const row of rows) Y.applyUpdate(doc, row.update)
  return doc
}

function loaded(state: Uint8Array): Y.Doc {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return doc
}

/** Two people typing into one text at random places, now and then seeing each other's edits (so concurrent inserts at one spot). */
function coEditing(count: number, seed: number): LogRow[] {
  let state = seed
  const random = () => (state = (state * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff
  const rows: LogRow[] = []
  const people = [new Y.Doc(), new Y.Doc()]
  people.forEach((doc, i) => (doc.clientID = 10 + i))
  const sent = people.map(() => 0)
  people.forEach((doc) => recorder(doc, rows))
  const cursors = [0, 0]
  const characters = ['a', 'b', 'é', '€', '😀', ' ', 'xyz']
  for (let i = 0; i < count; i++) {
    const who = random() < 0.5 ? 0 : 1
    const doc = people[who]
    const text = doc.getText('t')
    if (random() < 0.3) {
      // Catch up with everything logged so far (only the other's rows are new to this doc).
      for (const row of rows.slice(sent[who])) Y.applyUpdate(doc, row.update, 'remote')
      sent[who] = rows.length
    }
    // Jumps, often to where the other one types: inserts at one spot, each unseen by the other.
    if (random() < 0.05) cursors[who] = random() < 0.5 ? cursors[1 - who] : Math.floor(random() * (text.length + 1))
    cursors[who] = Math.min(cursors[who], text.length)
    const roll = random()
    if (roll < 0.1 && cursors[who] > 0) {
      text.delete(cursors[who] - 1, 1)
      cursors[who] -= 1
    } else if (roll < 0.12) {
      text.insert(cursors[who], 'bold', { bold: true })
      cursors[who] += 4
    } else {
      const character = characters[Math.floor(random() * characters.length)]
      text.insert(cursors[who], character)
      cursors[who] += character.length
    }
  }
  // Remote applies are recorded too: drop those (a server logs each client's own edits once).
  const seen = new Set<string>()
  return rows
    .filter((row) => {
      const key = Buffer.from(row.update).toString('hex')
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
    .map((row, i) => ({ id: i + 1, update: row.update }))
}

describe('TypingRuns', () => {
  it('gathers one-character typing into one string item, as Yjs stores it', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'start ')
    const before = loaded(Y.encodeStateAsUpdate(doc))
    const rows: LogRow[] = []
    recorder(doc, rows)
    for (let i = 0; i < 500; i++) doc.getText('t').insert(6 + i, String.fromCharCode(97 + (i % 26)))
    const runs = new TypingRuns(before)
    for (const row of rows) expect(runs.take(row.update, 0, row.update.byteLength)).toBe(true)
    const gathered = runs.drain()!
    expect(Y.decodeUpdate(gathered).structs).toHaveLength(1)
    expect(runs.drain()).toBeNull()
    Y.applyUpdate(before, gathered)
    expect(Y.encodeStateAsUpdate(before)).toEqual(Y.encodeStateAsUpdate(doc))
  })

  it('takes neither what the integration check refuses nor what would overlap or wait', () => {
    const doc = new Y.Doc()
    const rows: LogRow[] = []
    recorder(doc, rows)
    doc.getText('t').insert(0, 'a')
    doc.getText('t').insert(1, 'b')
    const runs = new TypingRuns(loaded(rows[0].update))
    expect(runs.take(POISON, 0, POISON.byteLength)).toBe(false)
    // The first row again: its clock is taken.
    expect(runs.take(rows[0].update, 0, rows[0].update.byteLength)).toBe(false)
    // A deletion of a clock nobody has.
    const deletion = new Uint8Array([0x00, 0x01, 0x8a, 0x06, 0x01, 0x00, 0x01])
    expect(runs.take(deletion, 0, deletion.byteLength)).toBe(false)
    // An empty deleted range of a clock it has.
    const client = doc.clientID
    const empty = encodeDeletion(client, 0, 0)
    expect(runs.take(empty, 0, empty.byteLength)).toBe(false)
    expect(runs.rows).toBe(0)
    expect(runs.take(rows[1].update, 0, rows[1].update.byteLength)).toBe(true)
    const both = encodeDeletion(client, 0, 2)
    expect(runs.take(both, 0, both.byteLength)).toBe(true)
    expect(runs.rows).toBe(2)
  })

  it('does not take a typed row whose origin nobody has yet (out of order in the log)', () => {
    const alice = new Y.Doc()
    alice.clientID = 21
    const aliceRows: LogRow[] = []
    recorder(alice, aliceRows)
    alice.getText('t').insert(0, 'a')
    alice.getText('t').insert(1, 'b')
    const bob = new Y.Doc()
    bob.clientID = 22
    for (const row of aliceRows) Y.applyUpdate(bob, row.update, 'remote')
    const bobRows: LogRow[] = []
    recorder(bob, bobRows)
    bob.getText('t').insert(2, 'c')
    // The log holds Alice's "a", then Bob's "c" (after Alice's "b"), then "b".
    const runs = new TypingRuns(loaded(aliceRows[0].update))
    expect(runs.take(bobRows[0].update, 0, bobRows[0].update.byteLength)).toBe(false)
    expect(runs.take(aliceRows[1].update, 0, aliceRows[1].update.byteLength)).toBe(true)
    expect(runs.take(bobRows[0].update, 0, bobRows[0].update.byteLength)).toBe(true)
    const log = [aliceRows[0], bobRows[0], aliceRows[1]].map((row, i) => ({ id: i + 1, update: row.update }))
    const folded = foldLog(null, log, integrationProblem)
    expect(folded.rejected).toEqual([])
    expect(loaded(folded.state).getText('t').toString()).toBe('abc')
  })
})

/** A V1 update deleting one range, written by hand (Yjs never writes an empty one): no structs, then the delete set. */
function encodeDeletion(client: number, clock: number, length: number): Uint8Array {
  const bytes: number[] = [0x00, 0x01]
  const writeVarUint = (value: number) => {
    while (value >= 0x80) {
      bytes.push((value & 0x7f) | 0x80)
      value = Math.floor(value / 128)
    }
    bytes.push(value)
  }
  writeVarUint(client)
  writeVarUint(1)
  writeVarUint(clock)
  writeVarUint(length)
  return new Uint8Array(bytes)
}

describe('foldLog with gathered typing', () => {
  it('gives the document that applying every row one by one gives (two people, concurrent inserts, deletions, formatting, non-ASCII)', () => {
    for (const seed of [1, 2, 3]) {
      const rows = coEditing(3000, seed)
      const folded = foldLog(null, rows, integrationProblem)
      expect(folded.rejected).toEqual([])
      const expected = applied(rows)
      const got = loaded(folded.state)
      expect(got.getText('t').toDelta()).toEqual(expected.getText('t').toDelta())
      expect(Y.encodeStateVector(got)).toEqual(Y.encodeStateVector(expected))
    }
  })

  it('still rejects each bad row among typed ones and applies every good one', () => {
    const rows = coEditing(400, 7)
    const invalidUtf8 = new Uint8Array(POISON)
    invalidUtf8[8] = 0x00 // origin 778:0 (itself): self-reference too, but first the string
    invalidUtf8.set([0xff, 0xfe], 10)
    const bad = [
      { id: 9001, update: POISON },
      { id: 9002, update: encodeDeletion(10, 0, 0) },
      { id: 9003, update: invalidUtf8 },
    ]
    const log = [...rows.slice(0, 100), bad[0], ...rows.slice(100, 200), bad[1], ...rows.slice(200, 300), bad[2], ...rows.slice(300)]
    const folded = foldLog(null, log, integrationProblem)
    expect(folded.rejected).toEqual([
      { id: 9001, problem: expect.stringMatching(/^self-reference: /) },
      { id: 9002, problem: expect.stringMatching(/^empty-deletion: /) },
      { id: 9003, problem: expect.stringMatching(/^malformed: /) },
    ])
    expect(loaded(folded.state).getText('t').toDelta()).toEqual(applied(rows).getText('t').toDelta())
  })
})

describe('unpackLog', () => {
  it('returns the rows of packed pages in id order, whatever order they were packed in', () => {
    const pack = (rows: LogRow[]) =>
      Buffer.concat(
        rows.flatMap((row) => {
          const head = Buffer.alloc(12)
          head.writeUInt32BE(Math.floor(row.id / 2 ** 32), 0)
          head.writeUInt32BE(row.id % 2 ** 32, 4)
          head.writeUInt32BE(row.update.byteLength, 8)
          return [head, Buffer.from(row.update)]
        }),
      )
    const rows = coEditing(50, 3)
    const shuffled = [...rows].sort((a, b) => ((a.id * 7919) % 50) - ((b.id * 7919) % 50))
    expect(shuffled.map((row) => row.id)).not.toEqual(rows.map((row) => row.id))
    const unpacked = unpackLog(new Uint8Array(pack(shuffled)))
    expect(unpacked.map((row) => row.id)).toEqual(rows.map((row) => row.id))
    expect(unpacked.map((row) => Buffer.from(row.update).toString('hex'))).toEqual(rows.map((row) => Buffer.from(row.update).toString('hex')))
  })
})

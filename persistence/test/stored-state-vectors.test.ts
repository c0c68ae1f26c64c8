import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocumentStore, StoredStateVectors } from '../src/index.ts'
import { edit, engines, uniqueName } from './helpers.ts'

const vectorOf = (doc: Y.Doc) => Y.decodeStateVector(Y.encodeStateVector(doc))

describe.each(engines)('StoredStateVectors (%s)', (_engine, open) => {
  it('is the state vector of what is committed, across appends and compactions, one statement per call', async () => {
    const db = await open()
    try {
      const store = new DocumentStore(db)
      const vectors = new StoredStateVectors(db)
      const a = uniqueName('a')
      const b = uniqueName('b')
      const docA = new Y.Doc()
      const docB = new Y.Doc()
      expect(await vectors.of([a, b])).toEqual(
        new Map([
          [a, new Map()],
          [b, new Map()],
        ]),
      )
      for (let i = 0; i < 5; i++)
        await store.append(
          a,
          edit(docA, (d) => d.getText('t').insert(0, `a${i}`)),
        )
      await store.append(
        b,
        edit(docB, (d) => d.getMap('m').set('k', 1)),
      )
      expect(await vectors.of([a, b])).toEqual(
        new Map([
          [a, vectorOf(docA)],
          [b, vectorOf(docB)],
        ]),
      )
      // Another writer (another instance) appends: the next call sees it.
      const elsewhere = new Y.Doc()
      Y.applyUpdate(elsewhere, Y.encodeStateAsUpdate(docA))
      await store.append(
        a,
        edit(elsewhere, (d) => d.getText('t').insert(0, 'x')),
      )
      expect((await vectors.of([a])).get(a)).toEqual(vectorOf(elsewhere))
      // Compaction folds the rows into a snapshot: the same vector.
      await store.compact(a)
      expect((await vectors.of([a])).get(a)).toEqual(vectorOf(elsewhere))
      await store.append(
        a,
        edit(elsewhere, (d) => d.getText('t').insert(0, 'y')),
      )
      expect((await vectors.of([a])).get(a)).toEqual(vectorOf(elsewhere))
      await store.flush()
    } finally {
      await db.close()
    }
  })
})

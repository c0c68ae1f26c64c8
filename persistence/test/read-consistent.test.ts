import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocumentStore, migrate, type Database } from '../src/index.ts'
import { docFrom, edit, engines, uniqueName } from './helpers.ts'

describe.each(engines)('DocumentStore.readConsistent on %s', (_engine, open) => {
  let db: Database
  let store: DocumentStore
  beforeAll(async () => {
    db = await open()
    await migrate(db)
    store = new DocumentStore(db, { mergeThreads: 0 })
  })
  afterAll(async () => {
    await store.close()
    await db.close()
  })

  it('reads several documents (snapshot + log) folded, null for one never stored', async () => {
    const a = uniqueName('a')
    const b = uniqueName('b')
    const missing = uniqueName('missing')
    const docA = new Y.Doc()
    await store.append(
      a,
      edit(docA, (d) => d.getMap('m').set('x', 1)),
    )
    await store.append(
      a,
      edit(docA, (d) => d.getMap('m').set('y', 2)),
    )
    await store.compact(a)
    await store.append(
      a,
      edit(docA, (d) => d.getMap('m').set('z', 3)),
    )
    const docB = new Y.Doc()
    await store.append(
      b,
      edit(docB, (d) => d.getText('t').insert(0, 'hi')),
    )
    const states = await store.readConsistent([a, b, missing])
    expect(docFrom(states.get(a)!).getMap('m').toJSON()).toEqual({ x: 1, y: 2, z: 3 })
    expect(docFrom(states.get(b)!).getText('t').toString()).toBe('hi')
    expect(states.get(missing)).toBeNull()
    // No side effects: the documents are not counted as loaded.
    expect(store.loadedLogs().some((log) => log.document === a)).toBe(false)
  })
})

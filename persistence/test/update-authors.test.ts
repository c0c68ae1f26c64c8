import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocumentStore, type Database } from '../src/index.ts'
import { edit, engines, uniqueName } from './helpers.ts'

/** The Yjs client that wrote an update (each test author edits with a Y.Doc of its own). */
function clientOf(update: Uint8Array): number {
  return Y.decodeUpdate(update).structs[0].id.client
}

describe.each(engines)('update authors on %s', (engine, open) => {
  let db: Database
  let store: DocumentStore

  beforeAll(async () => {
    db = await open()
    // Compaction is driven explicitly in these tests.
    store = new DocumentStore(db, { compaction: { minUpdates: 1e9, maxUpdates: 1e9 } })
  })
  afterAll(async () => {
    await store.flush()
    await db.close()
  })

  async function storedRows(name: string): Promise<Array<{ author_id: string | null; update: Uint8Array }>> {
    return db.query('SELECT author_id::text, update FROM document_updates WHERE name = $1 ORDER BY id', [name])
  }

  it('stores the author of an append, and null for the server', async () => {
    const name = uniqueName('author')
    const doc = new Y.Doc()
    await store.append(
      name,
      edit(doc, (d) => d.getText('t').insert(0, 'by 41')),
      { authorId: '41' },
    )
    await store.append(
      name,
      edit(doc, (d) => d.getText('t').insert(0, 'by the server')),
    )
    expect((await storedRows(name)).map((row) => row.author_id)).toEqual(['41', null])
  })

  it('keeps each row its own author inside one group-committed batch', async () => {
    const name = uniqueName('batch')
    const authors = ['7', '8', null]
    const docs = authors.map(() => new Y.Doc())
    const authorOfClient = new Map(docs.map((doc, i) => [doc.clientID, authors[i]]))
    const batchesBefore = store.committer.stats.batches
    const largestBefore = store.committer.stats.largestBatch
    const appends: Array<Promise<void>> = []
    for (let round = 0; round < 100; round++) {
      docs.forEach((doc, i) => {
        const update = edit(doc, (d) => d.getMap('m').set(`${i}-${round}`, round))
        appends.push(store.append(name, update, { authorId: authors[i] }))
      })
    }
    await Promise.all(appends)
    // Shared batches, or this test proves nothing about them.
    expect(store.committer.stats.batches - batchesBefore).toBeLessThan(300)
    expect(Math.max(store.committer.stats.largestBatch, largestBefore)).toBeGreaterThan(1)
    const rows = await storedRows(name)
    expect(rows).toHaveLength(300)
    for (const row of rows) expect(row.author_id).toBe(authorOfClient.get(clientOf(row.update)))
  })

  it('still says who wrote what, and when, after compaction folded the rows', async () => {
    const name = uniqueName('folded')
    const ana = new Y.Doc()
    const ben = new Y.Doc()
    const server = new Y.Doc()
    for (let i = 0; i < 5; i++)
      await store.append(
        name,
        edit(ana, (d) => d.getText('ana').insert(0, 'a')),
        { authorId: '101' },
      )
    // Ana wrote an hour ago; Ben and the server now.
    await db.query(`UPDATE document_updates SET created_at = created_at - interval '1 hour' WHERE name = $1`, [name])
    const now = Date.now()
    for (let i = 0; i < 3; i++)
      await store.append(
        name,
        edit(ben, (d) => d.getText('ben').insert(0, 'b')),
        { authorId: '102' },
      )
    await store.append(
      name,
      edit(server, (d) => d.getMap('counters').set('opens', 1)),
    )

    const before = await store.authorsBetween(name, 0, now + 60_000)
    const result = await store.compact(name)
    expect(result.merged).toBe(9)
    expect(await storedRows(name)).toEqual([])
    const after = await store.authorsBetween(name, 0, now + 60_000)

    for (const answer of [before, after]) {
      expect(answer.map(({ authorId, updates }) => ({ authorId, updates }))).toEqual([
        { authorId: '101', updates: 5 },
        { authorId: '102', updates: 3 },
        { authorId: null, updates: 1 },
      ])
      expect(answer[0].firstAt).toBeLessThan(now - 59 * 60_000)
      expect(answer[1].firstAt).toBeGreaterThan(now - 60_000)
    }
    // Windows still separate them (folded rows to the minute).
    expect((await store.authorsBetween(name, now - 30 * 60_000, now + 60_000)).map((a) => a.authorId)).toEqual(['102', null])
    expect((await store.authorsBetween(name, 0, now - 30 * 60_000)).map((a) => a.authorId)).toEqual(['101'])
    expect(await store.authorsBetween(name, now + 60_000, now + 120_000)).toEqual([])

    // A later append is live, the earlier ones folded: both answer together.
    await store.append(
      name,
      edit(ana, (d) => d.getText('ana').insert(0, 'a')),
      { authorId: '101' },
    )
    const mixed = await store.authorsBetween(name, 0, Date.now() + 60_000)
    expect(mixed.find((a) => a.authorId === '101')?.updates).toBe(6)
  })

  it('does not count a quarantined row as a change', async () => {
    const name = uniqueName('quarantined')
    const doc = new Y.Doc()
    await store.append(
      name,
      edit(doc, (d) => d.getText('t').insert(0, 'fine')),
      { authorId: '5' },
    )
    // Bytes that are no Yjs update: skipped at load, moved to quarantine by compaction.
    await store.append(name, new Uint8Array([1, 2, 3, 4, 5]), { authorId: '6' })
    await store.load(name)
    expect((await store.authorsBetween(name, 0, Date.now() + 60_000)).map((a) => a.authorId)).toEqual(['5'])
    await store.compact(name)
    expect((await store.authorsBetween(name, 0, Date.now() + 60_000)).map((a) => a.authorId)).toEqual(['5'])
    void engine
  })
})

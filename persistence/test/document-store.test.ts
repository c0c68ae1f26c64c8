import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { compactDocument, compactionDecision, defaultCompactionPolicy, DocumentStore, migrate, migrations, type Database } from '../src/index.ts'
import { docFrom, edit, engines, uniqueName } from './helpers.ts'

describe('compaction policy', () => {
  const policy = defaultCompactionPolicy
  it('leaves small logs alone', () => {
    expect(compactionDecision({ updates: 199, bytes: 1e6, snapshotBytes: 0 }, policy)).toBe('no')
    expect(compactionDecision({ updates: 5000, bytes: 64 * 1024 - 1, snapshotBytes: 0 }, policy)).toBe('no')
  })
  it('waits for a quiet moment past the threshold, and not past the hard limits', () => {
    expect(compactionDecision({ updates: 300, bytes: 64 * 1024, snapshotBytes: 1000 }, policy)).toBe('when-idle')
    expect(compactionDecision({ updates: 300, bytes: 4 * 64 * 1024, snapshotBytes: 1000 }, policy)).toBe('now')
    expect(compactionDecision({ updates: 20_000, bytes: 10, snapshotBytes: 0 }, policy)).toBe('now')
  })
  it('scales the threshold with the snapshot on large documents', () => {
    const mb = 1024 * 1024
    expect(compactionDecision({ updates: 5000, bytes: 200 * 1024, snapshotBytes: mb }, policy)).toBe('no')
    expect(compactionDecision({ updates: 9000, bytes: 256 * 1024, snapshotBytes: mb }, policy)).toBe('when-idle')
  })
})

describe.each(engines)('DocumentStore on %s', (engine, open) => {
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

  it('applies migrations once', async () => {
    expect(await migrate(db)).toEqual([])
    const rows = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')
    // Other branches' migrations may share the test database: ours must all be there.
    expect(rows.map((r) => r.version)).toEqual(expect.arrayContaining(migrations.map((m) => m.version)))
  })

  it('loads nothing for a document never stored', async () => {
    const name = uniqueName('empty')
    expect(await store.exists(name)).toBe(false)
    expect((await store.load(name)).state).toBeNull()
  })

  it('round-trips appended updates', async () => {
    const name = uniqueName('roundtrip')
    const doc = new Y.Doc()
    await store.append(
      name,
      edit(doc, (d) => d.getMap('m').set('a', 1)),
    )
    await store.append(
      name,
      edit(doc, (d) => d.getText('t').insert(0, 'hello')),
    )
    await store.append(
      name,
      edit(doc, (d) => d.getText('t').insert(5, ' world')),
    )

    const loaded = await store.load(name)
    expect(loaded.stats.updates).toBe(3)
    const copy = docFrom(loaded.state)
    expect(copy.getMap('m').get('a')).toBe(1)
    expect(copy.getText('t').toString()).toBe('hello world')
    expect(Y.encodeStateVector(copy)).toEqual(Y.encodeStateVector(doc))
    expect(await store.exists(name)).toBe(true)
  })

  it('compaction leaves the state exactly as the un-compacted log', async () => {
    const name = uniqueName('compact')
    const doc = new Y.Doc()
    for (let i = 0; i < 50; i++) {
      await store.append(
        name,
        edit(doc, (d) => d.getText('t').insert(0, `line ${i}\n`)),
      )
      if (i % 5 === 0)
        await store.append(
          name,
          edit(doc, (d) => d.getText('t').delete(0, 3)),
        )
    }
    const before = await store.load(name)
    const result = await store.compact(name)
    expect(result.merged).toBe(before.stats.updates)
    const after = await store.load(name)
    expect(after.stats.updates).toBe(0)
    expect(after.stats.snapshotBytes).toBeGreaterThan(0)
    const a = docFrom(before.state)
    const b = docFrom(after.state)
    expect(b.getText('t').toString()).toBe(doc.getText('t').toString())
    expect(Y.encodeStateVector(b)).toEqual(Y.encodeStateVector(a))

    // Idempotent: compacting again changes nothing.
    expect((await store.compact(name)).merged).toBe(0)
    expect(
      docFrom((await store.load(name)).state)
        .getText('t')
        .toString(),
    ).toBe(doc.getText('t').toString())

    // New appends land in the tail after the snapshot.
    await store.append(
      name,
      edit(doc, (d) => d.getText('t').insert(0, 'tail ')),
    )
    const tail = await store.load(name)
    expect(tail.stats.updates).toBe(1)
    expect(docFrom(tail.state).getText('t').toString()).toBe(doc.getText('t').toString())
  })

  it('a crash between compaction steps loses nothing', async () => {
    const name = uniqueName('crash')
    const doc = new Y.Doc()
    for (let i = 0; i < 20; i++)
      await store.append(
        name,
        edit(doc, (d) => d.getArray('a').push([i])),
      )
    const expected = doc.getArray('a').toJSON()

    // The snapshot is written, then the process "dies" before the log is trimmed.
    await expect(
      store.compact(name, {
        afterSnapshotWritten: async () => {
          throw new Error('simulated crash')
        },
      }),
    ).rejects.toThrow('simulated crash')
    const afterCrash = await store.load(name)
    expect(afterCrash.stats.updates).toBe(20)
    expect(docFrom(afterCrash.state).getArray('a').toJSON()).toEqual(expected)

    if (engine === 'postgres') {
      // A real connection loss mid-transaction: the server kills our backend.
      await expect(
        store.compact(name, {
          afterSnapshotWritten: async () => {
            await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE $1', ['%INSERT INTO documents (name, snapshot%'])
          },
        }),
      ).rejects.toThrow()
      expect(
        docFrom((await store.load(name)).state)
          .getArray('a')
          .toJSON(),
      ).toEqual(expected)
    }

    // Compaction is retried and completes.
    expect((await store.compact(name)).merged).toBe(20)
    expect(
      docFrom((await store.load(name)).state)
        .getArray('a')
        .toJSON(),
    ).toEqual(expected)
  })

  it('reads a log in pages and compacts it in bounded steps, deleting exactly what each step folded', async () => {
    const paged = new DocumentStore(db, { compaction: { minUpdates: 1e9, maxUpdates: 1e9 }, loadPageRows: 7, compactionStepRows: 10 })
    const name = uniqueName('steps')
    const doc = new Y.Doc()
    for (let i = 0; i < 45; i++)
      await paged.append(
        name,
        edit(doc, (d) => d.getArray('a').push([i])),
      )
    const loaded = await paged.load(name)
    expect(loaded.stats.updates).toBe(45)
    expect(docFrom(loaded.state).getArray('a').toJSON()).toEqual(doc.getArray('a').toJSON())

    const steps: number[] = []
    const result = await compactDocument(db, name, {}, { maxRowsPerStep: 10, onStep: (step) => steps.push(step.merged) })
    expect(steps).toEqual([10, 10, 10, 10, 5])
    expect(result).toMatchObject({ merged: 45, steps: 5, quarantined: 0 })
    const after = await paged.load(name)
    expect(after.stats.updates).toBe(0)
    expect(docFrom(after.state).getArray('a').toJSON()).toEqual(doc.getArray('a').toJSON())
    await paged.close()
  })

  it('reads snapshot and log alike whether the log fits one page (one aggregate) or not (the paged statement)', async () => {
    const paged = new DocumentStore(db, { compaction: { minUpdates: 1e9, maxUpdates: 1e9 }, loadPageRows: 5 })
    const name = uniqueName('one-page')
    const doc = new Y.Doc()
    const push = async (count: number) => {
      for (let i = 0; i < count; i++)
        await paged.append(
          name,
          edit(doc, (d) => d.getArray('a').push([d.getArray('a').length])),
        )
    }
    await push(3)
    await paged.compact(name)
    for (const [rows, expected] of [
      [5, 5],
      [1, 6],
      [9, 15],
    ]) {
      await push(rows)
      const loaded = await paged.load(name)
      expect(loaded.stats).toMatchObject({ updates: expected })
      expect(loaded.stats.snapshotBytes).toBeGreaterThan(0)
      expect(docFrom(loaded.state).getArray('a').toJSON()).toEqual(doc.getArray('a').toJSON())
    }
    await paged.close()
  })

  it('group-commits concurrent appends from 50 documents', async () => {
    const prefix = uniqueName('many')
    const docs = Array.from({ length: 50 }, () => new Y.Doc())
    const batchesBefore = store.committer.stats.batches
    const appendedBefore = store.committer.stats.appended
    await Promise.all(
      docs.map(async (doc, i) => {
        for (let n = 0; n < 10; n++) {
          await store.append(
            `${prefix}-${i}`,
            edit(doc, (d) => d.getArray('a').push([`${i}:${n}`])),
          )
        }
      }),
    )
    expect(store.committer.stats.appended - appendedBefore).toBe(500)
    // Sharing transactions is the point: far fewer commits than appends.
    expect(store.committer.stats.batches - batchesBefore).toBeLessThan(250)
    for (let i = 0; i < 50; i++) {
      const loaded = docFrom((await store.load(`${prefix}-${i}`)).state)
      expect(loaded.getArray('a').toJSON()).toEqual(docs[i].getArray('a').toJSON())
    }
  })

  it('appends racing a compaction are never lost', async () => {
    const name = uniqueName('race')
    const doc = new Y.Doc()
    for (let i = 0; i < 30; i++)
      await store.append(
        name,
        edit(doc, (d) => d.getArray('a').push([i])),
      )
    const appends: Promise<void>[] = []
    const compactions: Promise<unknown>[] = []
    for (let i = 30; i < 90; i++) {
      appends.push(
        store.append(
          name,
          edit(doc, (d) => d.getArray('a').push([i])),
        ),
      )
      if (i % 20 === 0) compactions.push(store.compact(name))
    }
    await Promise.all([...appends, ...compactions])
    await store.compact(name)
    expect(
      docFrom((await store.load(name)).state)
        .getArray('a')
        .toJSON(),
    ).toEqual(doc.getArray('a').toJSON())
  })

  it('compacts by itself once the threshold is passed and the document is quiet', async () => {
    const eager = new DocumentStore(db, { compaction: { minUpdates: 5, minBytes: 1, idleMs: 50, maxBytesFactor: 1e9 } })
    const name = uniqueName('idle')
    const doc = new Y.Doc()
    await eager.load(name)
    for (let i = 0; i < 10; i++)
      await eager.append(
        name,
        edit(doc, (d) => d.getArray('a').push([i])),
      )
    // Still editing: nothing compacted yet.
    expect((await db.query('SELECT 1 FROM documents WHERE name = $1', [name])).length).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await eager.flush()
    const loaded = await eager.load(name)
    expect(loaded.stats.updates).toBe(0)
    expect(docFrom(loaded.state).getArray('a').toJSON()).toEqual(doc.getArray('a').toJSON())
  })

  it('refuses nothing silently: a failed commit rejects the append', async () => {
    const broken = new DocumentStore({
      ...db,
      kind: db.kind,
      query: async () => {
        throw new Error('database is down')
      },
      exec: db.exec.bind(db),
      transaction: db.transaction.bind(db),
      close: async () => {},
    })
    await expect(broken.append(uniqueName('down'), new Uint8Array([0, 0]))).rejects.toThrow('database is down')
  })
})

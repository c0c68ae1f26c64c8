import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, openDatabase, type Database } from '@botsync/persistence'
import { PgliteDatabase } from '../../persistence/src/pglite-database.ts'
import { DATABASE_URL, uniqueSpace } from '@botsync/testkit/server'
import { pngBytes } from '@botsync/testkit/media'
import { MediaStore } from '../src/media/media-store.ts'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

// The same store on both databases botsync runs on: PostgreSQL (DATABASE_URL) and the embedded PGlite.
describe.each([
  ['PostgreSQL', () => openDatabase({ databaseUrl: DATABASE_URL })],
  ['PGlite', () => PgliteDatabase.open(undefined)],
])('MediaStore on %s', (_kind, open: () => Promise<Database>) => {
  let db: Database
  let store: MediaStore
  const space = uniqueSpace()

  beforeAll(async () => {
    db = await open()
    await migrate(db)
    await db.query('INSERT INTO spaces (id, name) VALUES ($1, $1)', [space])
    store = new MediaStore(db)
  })
  afterAll(async () => {
    await db.close()
  })

  it('stores bytes once per space, reads them whole and in parts, and loses them with the space', async () => {
    const png = pngBytes(4, 3, 5)
    const file = { id: sha256(png), space, mime: 'image/png', kind: 'photo' as const, bytes: png.length, width: 4, height: 3, name: 'a.png', uploadedBy: null, content: png }
    const first = await store.put(file)
    expect(first.created).toBe(true)
    expect(first.media).toMatchObject({ id: sha256(png), kind: 'photo', bytes: png.length, width: 4, height: 3, name: 'a.png' })
    const second = await store.put({ ...file, name: 'b.png' })
    expect(second).toMatchObject({ created: false, media: { name: 'a.png' } })
    expect(await store.count(space)).toBe(1)

    expect(await store.read(space, file.id, 0, png.length)).toEqual(png)
    expect(await store.read(space, file.id, 10, 7)).toEqual(png.subarray(10, 17))
    expect(await store.read(space, sha256(new Uint8Array([1])), 0, 1)).toBeNull()
    expect((await store.list(space)).map((m) => m.id)).toEqual([file.id])

    await db.query('DELETE FROM spaces WHERE id = $1', [space])
    expect(await store.count(space)).toBe(0)
  })
})

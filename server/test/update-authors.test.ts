import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docName } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { connect, memberOf, startServer, synced, uniqueSpace, wsUrlOf } from '@botsync/testkit/server'

describe('update authors', () => {
  let server: BotsyncServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server.stop()
  })

  it("stores each admin's updates as theirs and the server's own as nobody's", async () => {
    const space = uniqueSpace()
    const name = docName.scenario(space, 'authors')
    const ana = await memberOf(server, space, 'owner')
    const ben = await memberOf(server, space, 'editor')
    const anaClient = connect(wsUrlOf(server), name, ana.token)
    const benClient = connect(wsUrlOf(server), name, ben.token)
    try {
      await Promise.all([synced(anaClient), synced(benClient)])
      for (let i = 0; i < 5; i++) {
        anaClient.doc.getText('text').insert(0, `ana ${i};`)
        benClient.doc.getText('text').insert(0, `ben ${i};`)
        await Promise.all([synced(anaClient), synced(benClient)])
      }
      await server.writer.change(name, (doc) => doc.getMap('counters').set('opens', 1))

      const rows = await server.db.query<{ author_id: string | null; update: Uint8Array }>('SELECT author_id::text, update FROM document_updates WHERE name = $1 ORDER BY id', [
        name,
      ])
      const expected = new Map([
        [anaClient.doc.clientID, ana.userId],
        [benClient.doc.clientID, ben.userId],
      ])
      const seen = new Set<string | null>()
      for (const row of rows) {
        // Every struct of a row comes from one writer here; anyone else is the server (ServerWriter's scratch copy).
        const clients = new Set(Y.decodeUpdate(row.update).structs.map((struct) => struct.id.client))
        expect(clients.size).toBe(1)
        const [client] = clients
        expect(row.author_id).toBe(expected.get(client) ?? null)
        seen.add(row.author_id)
      }
      expect(seen).toEqual(new Set([ana.userId, ben.userId, null]))

      const authors = await server.store.authorsBetween(name, 0, Date.now() + 60_000)
      expect(new Set(authors.map((author) => author.authorId))).toEqual(new Set([ana.userId, ben.userId, null]))
      expect(authors.find((author) => author.authorId === null)?.updates).toBe(1)
    } finally {
      anaClient.destroy()
      benClient.destroy()
    }
  })

  it('stores a server change made for an admin (a restore they asked for) as theirs', async () => {
    const space = uniqueSpace()
    const name = docName.scenario(space, 'restored')
    const ana = await memberOf(server, space, 'owner')
    await server.writer.change(name, (doc) => doc.getText('text').insert(0, 'seeded'))
    await server.writer.change(name, (doc) => doc.getText('text').insert(0, 'restored '), { authorId: ana.userId })
    const rows = await server.db.query<{ author_id: string | null }>('SELECT author_id::text FROM document_updates WHERE name = $1 ORDER BY id', [name])
    expect(rows.map((row) => row.author_id)).toEqual([null, ana.userId])
  })

  it("purging a deleted space drops its documents' authorship too", async () => {
    const space = uniqueSpace()
    const name = docName.scenario(space, 'purged')
    const ana = await memberOf(server, space, 'owner')
    await server.writer.change(name, (doc) => doc.getText('text').insert(0, 'gone soon'), { authorId: ana.userId })
    await server.store.compact(name)
    expect(await server.store.authorsBetween(name, 0, Date.now() + 60_000)).toHaveLength(1)
    await server.db.query(`UPDATE spaces SET deleting_at = now() - interval '1 second' WHERE id = $1`, [space])
    expect(await server.spaces.purgeExpired()).toContain(space)
    expect(await server.store.authorsBetween(name, 0, Date.now() + 60_000)).toEqual([])
  })
})

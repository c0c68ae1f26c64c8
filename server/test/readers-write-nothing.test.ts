import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName } from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { BOT_TOKEN, connect, readersUrlOf, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'

const TELEGRAM_TOKEN = `123456:write-nothing-${uniqueSpace()}`

/** Rows of any document of `space`, in the log and in snapshots. */
async function rowsOf(server: BotsyncServer, space: string): Promise<number> {
  const [log] = await server.db.query<{ n: string }>("SELECT count(*) AS n FROM document_updates WHERE name LIKE $1 || '/%'", [space])
  const [snapshots] = await server.db.query<{ n: string }>("SELECT count(*) AS n FROM documents WHERE name LIKE $1 || '/%'", [space])
  return Number(log.n) + Number(snapshots.n)
}

describe('read-only clients write nothing', () => {
  let server: BotsyncServer
  let space: string

  beforeAll(async () => {
    // An invented space nobody has written to; the bot and readers belong to it.
    space = uniqueSpace()
    server = await startServer({ TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, BOT_SPACE: space, READER_DOCUMENT_GRACE_MS: '50' })
  })
  afterAll(() => server?.stop())

  it('opening <invented>/public as a viewer, a reader or the bot stores no row', async () => {
    const viewer = await userToken(server, 'viewer', space)
    const clients = [
      connect(wsUrlOf(server), docName.public(space), viewer),
      connect(wsUrlOf(server), docName.settings(space), viewer),
      connect(readersUrlOf(server), docName.public(space), signInitData(TELEGRAM_TOKEN)),
      connect(wsUrlOf(server), docName.settings(space), BOT_TOKEN),
      connect(wsUrlOf(server), docName.scenarios(space), BOT_TOKEN),
    ]
    for (const client of clients) await synced(client)
    for (const client of clients) client.destroy()
    // Until the documents are unloaded (and anything pending would be flushed).
    await waitFor(() => server.server.hocuspocus.documents.size === 0, 'documents to unload')
    expect(await rowsOf(server, space)).toBe(0)
  })

  it('still projects a space that has content (the check above is not vacuous)', async () => {
    const other = uniqueSpace()
    const editor = connect(wsUrlOf(server), docName.settings(other), await userToken(server, 'editor', other))
    await synced(editor)
    editor.doc.getMap('texts').set('x', 'y')
    await synced(editor)
    const viewer = connect(wsUrlOf(server), docName.public(other), await userToken(server, 'viewer', other))
    await synced(viewer)
    editor.destroy()
    viewer.destroy()
    await waitFor(
      async () => (await server.db.query<{ n: string }>('SELECT count(*) AS n FROM document_updates WHERE name = $1', [docName.public(other)]))[0].n !== '0',
      'the public document to be written',
    )
  })
})

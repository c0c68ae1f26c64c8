import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { RawClient } from '@botsync/testkit/raw-client'
import { connect, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'

// The attack frame, as sent on /collab after authenticating:
// varString(doc) 00 02 varUint8Array(update): client 778 inserts "evil"
// with its origin at its own future clock 778:5.
const POISON = Uint8Array.from([0x01, 0x01, 0x8a, 0x06, 0x00, 0x84, 0x8a, 0x06, 0x05, 0x04, 0x65, 0x76, 0x69, 0x6c, 0x00])

async function storedRows(server: BotsyncServer, name: string): Promise<number> {
  const rows = await server.db.query<{ n: string }>('SELECT count(*) AS n FROM document_updates WHERE name = $1', [name])
  return Number(rows[0].n)
}

/** Separate updates of one client, as its provider would send them. */
function edits(count: number, clientID = 4242): Uint8Array[] {
  const doc = new Y.Doc()
  doc.clientID = clientID
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  for (let i = 0; i < count; i++) doc.getMap('settings').set(`k${i}`, i)
  return updates
}

async function health(server: BotsyncServer): Promise<{ refusedUpdates: Record<string, number> }> {
  return (await fetch(`http://127.0.0.1:${server.port}/health`)).json()
}

describe('updates that would break a document', () => {
  let server: BotsyncServer

  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server?.stop())

  it('refuses the poison frame: invalid-update, nothing stored, the socket stays usable, the document still loads after a restart', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const admin = connect(wsUrlOf(server), name, token)
    await synced(admin)
    admin.doc.getMap('settings').set('welcome', 'hello')
    await synced(admin)
    admin.destroy()
    const rowsBefore = await storedRows(server, name)

    const raw = await RawClient.connect(wsUrlOf(server), name, token)
    raw.sendUpdate(POISON)
    await waitFor(() => raw.statuses.length === 1, 'the sync status')
    expect(raw.statuses).toEqual([false])
    expect(raw.refusals()).toEqual(['invalid-update'])
    expect(await storedRows(server, name)).toBe(rowsBefore)
    expect((await health(server)).refusedUpdates['invalid-update']).toBeGreaterThanOrEqual(1)

    // As sync step 2 too.
    raw.sendSyncStep2(POISON)
    await waitFor(() => raw.statuses.length === 2, 'the second sync status')
    expect(raw.statuses).toEqual([false, false])
    expect(raw.refusals()).toEqual(['invalid-update', 'invalid-update'])

    // Same socket, an ordinary update: stored and acknowledged.
    raw.sendUpdate(edits(1)[0])
    await waitFor(() => raw.statuses.length === 3, 'the third sync status')
    expect(raw.statuses).toEqual([false, false, true])
    expect(raw.closed).toBeNull()
    raw.close()

    // The live document on this server was not touched either.
    const live = connect(wsUrlOf(server), name, token)
    await synced(live)
    expect(live.doc.getMap('settings').toJSON()).toEqual({ welcome: 'hello', k0: 0 })
    expect(live.doc.store.clients.has(778)).toBe(false)
    live.destroy()

    // A new server on the same database loads the document.
    const second = await startServer()
    try {
      const reader = connect(wsUrlOf(second), name, await userToken(second, 'editor', space))
      await synced(reader)
      expect(reader.doc.getMap('settings').get('welcome')).toBe('hello')
      expect(reader.doc.getMap('settings').get('k0')).toBe(0)
      expect(reader.doc.store.clients.has(778)).toBe(false)
      expect(reader.doc.store.pendingStructs).toBeNull()
      reader.destroy()
    } finally {
      await second.stop()
    }
  })

  it('accepts an ordinary out-of-order update: update 2 before update 1, both applied', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const [first, second] = edits(2)
    const raw = await RawClient.connect(wsUrlOf(server), name, token)
    raw.sendUpdate(second)
    raw.sendUpdate(first)
    await waitFor(() => raw.statuses.length === 2, 'two sync statuses')
    expect(raw.statuses).toEqual([true, true])
    expect(raw.refusals()).toEqual([])
    raw.close()
    const reader = connect(wsUrlOf(server), name, token)
    await synced(reader)
    expect(reader.doc.getMap('settings').toJSON()).toEqual({ k0: 0, k1: 1 })
    reader.destroy()
  })
})

describe('MAX_DOCUMENT_BYTES', () => {
  let server: BotsyncServer

  beforeAll(async () => {
    server = await startServer({ MAX_DOCUMENT_BYTES: '4000' })
  })
  afterAll(() => server?.stop())

  it('refuses an update that would grow the document past it; earlier content is kept, the change stays unsynced', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const admin = connect(wsUrlOf(server), name, token)
    await synced(admin)
    admin.doc.getMap('settings').set('welcome', 'x'.repeat(1500))
    await synced(admin)
    const rowsBefore = await storedRows(server, name)

    admin.doc.getMap('settings').set('big', 'y'.repeat(3000))
    await waitFor(() => admin.stateless.length > 0, 'the refusal')
    expect(JSON.parse(admin.stateless[0])).toMatchObject({ type: 'botsync:refused', reason: 'document-too-large' })
    expect(admin.provider.unsyncedChanges).toBeGreaterThan(0)
    expect(await storedRows(server, name)).toBe(rowsBefore)

    // Deleting is always allowed, and the document accepts small edits again.
    admin.doc.getMap('settings').delete('big')
    admin.destroy()
    const other = connect(wsUrlOf(server), name, token)
    await synced(other)
    expect(other.doc.getMap('settings').get('welcome')).toBe('x'.repeat(1500))
    expect(other.doc.getMap('settings').has('big')).toBe(false)
    other.doc.getMap('settings').set('small', 'ok')
    await synced(other)
    other.destroy()
    expect((await health(server)).refusedUpdates['document-too-large']).toBeGreaterThanOrEqual(1)
  })
})

describe('per-connection update rate', () => {
  let server: BotsyncServer

  beforeAll(async () => {
    // A slow refill, so that how fast this machine commits the first 20 does
    // not change how many of a flood pass.
    server = await startServer({ MAX_UPDATES_PER_SECOND: '1', UPDATE_BURST: '20' })
  })
  afterAll(() => server?.stop())

  it('refuses a flood past the burst with rate-limited, and asks for it again once the rate allows', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const raw = await RawClient.connect(wsUrlOf(server), name, token)
    const updates = edits(40)
    for (const update of updates) raw.sendUpdate(update)
    await waitFor(() => raw.statuses.length === 40, 'forty sync statuses')
    // (The server's sync step 1 of the initial handshake came before these.)
    raw.syncStep1s.length = 0
    const accepted = raw.statuses.filter(Boolean).length
    expect(accepted).toBeGreaterThanOrEqual(20)
    expect(accepted).toBeLessThanOrEqual(22) // a token a second may come back meanwhile
    expect(raw.statuses.slice(0, 20).every(Boolean)).toBe(true)
    expect(new Set(raw.refusals())).toEqual(new Set(['rate-limited']))
    expect(raw.closed).toBeNull()
    // The server sends sync step 1 (its state vector) so the client resends.
    await waitFor(() => raw.syncStep1s.length > 0, 'the server asking for what it lacks')
    raw.close()
  })

  it('closes a socket that keeps flooding with 1008 rate-limited', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const raw = await RawClient.connect(wsUrlOf(server), name, token)
    for (const update of edits(200)) raw.sendUpdate(update)
    await waitFor(() => raw.closed !== null, 'the socket to close')
    expect(raw.closed).toEqual({ code: 1008, reason: 'rate-limited' })
  })

  it("lets a provider's ordinary paced edits through, and a refused burst reaches the server afterwards", async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const admin = connect(wsUrlOf(server), name, token)
    await synced(admin)
    const text = admin.doc.getText('typed')
    for (let i = 0; i < 10; i++) {
      text.insert(text.length, 'a')
      await new Promise((resolve) => setTimeout(resolve, 110))
    }
    await synced(admin)
    expect(admin.stateless).toEqual([])
    // A burst of 40 separate changes: 20 pass, the rest are refused and then
    // resent when the server asks for them.
    for (let i = 0; i < 40; i++) admin.doc.getMap('settings').set(`k${i}`, i)
    await waitFor(() => admin.stateless.length > 0, 'a refusal')
    const reader = connect(wsUrlOf(server), name, token)
    await waitFor(() => reader.doc.getMap('settings').size === 40, 'every change to reach the server', 15_000)
    expect(reader.doc.getText('typed').toString()).toBe('a'.repeat(10))
    reader.destroy()
    admin.destroy()
  })
})

describe('MAX_WAITING_BYTES', () => {
  let server: BotsyncServer

  beforeAll(async () => {
    server = await startServer({ MAX_WAITING_BYTES: '2000' })
  })
  afterAll(() => server?.stop())

  it('refuses more updates that would wait for missing content once the document holds the limit, and still takes ones that integrate', async () => {
    const space = uniqueSpace()
    const token = await userToken(server, 'editor', space)
    const name = `${space}/settings`
    const session = await RawClient.connect(wsUrlOf(server), name, token)
    // One client's edits, 600+ bytes each; without the first, all the others wait for it.
    const doc = new Y.Doc()
    doc.clientID = 5151
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 6; i++) doc.getMap('settings').set(`w${i}`, `${i}`.repeat(600))
    const [first, ...later] = updates
    for (const update of later) session.sendUpdate(update)
    await waitFor(() => session.statuses.length === later.length, 'an answer to every waiting update')
    // The first few wait (stored, acknowledged); once 2,000 bytes wait, the rest are refused.
    const accepted = session.statuses.filter(Boolean).length
    expect(accepted).toBeGreaterThanOrEqual(3)
    expect(accepted).toBeLessThan(later.length)
    expect(session.refusals()).toContain('too-much-waiting')
    const document = server.server.hocuspocus.documents.get(name)!
    expect(document.store.pendingStructs).not.toBeNull()

    // An update that integrates is taken as ever, and so is the one the others wait for.
    const [honest] = edits(1)
    session.sendUpdate(honest)
    session.sendUpdate(first)
    await waitFor(() => session.statuses.length === later.length + 2, 'the two answers')
    expect(session.statuses.slice(-2)).toEqual([true, true])
    expect(document.store.pendingStructs).toBeNull()
    const keys = [...document.getMap('settings').keys()].sort()
    expect(keys).toEqual(['k0', ...Array.from({ length: accepted + 1 }, (_, i) => `w${i}`)].sort())
    expect((await health(server)).refusedUpdates['too-much-waiting']).toBeGreaterThanOrEqual(1)
    session.close()
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { RawClient } from '@botsync/testkit/raw-client'
import { startServer, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'

const READERS = 40
const EDITS = 30

async function broadcastStats(server: BotsyncServer): Promise<{ sliced: number; yields: number }> {
  const health = (await (await fetch(`http://127.0.0.1:${server.port}/health`)).json()) as { broadcasts: { sliced: number; yields: number } }
  return health.broadcasts
}

/** One client's edits, each its own update: map `n` set to 0, 1, 2, … */
function edits(count: number): Uint8Array[] {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (let i = 0; i < count; i++) doc.getMap('bench').set('n', i)
  return updates
}

/** The writer's document after all its edits: what every reader must end with. */
function finalState(updates: Uint8Array[]): Uint8Array {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return Y.encodeStateAsUpdate(doc)
}

/**
 * What a reader saw: the value of `n` after each update it received, in
 * arrival order (updates queued behind a running broadcast arrive merged, so
 * values may be skipped, never repeated or reversed), and its document.
 */
function watch(reader: RawClient): { seen: number[]; doc: Y.Doc } {
  const doc = new Y.Doc()
  const seen: number[] = []
  reader.onUpdate = (update) => {
    Y.applyUpdate(doc, update)
    seen.push(doc.getMap<number>('bench').get('n')!)
  }
  return { seen, doc }
}

function expectIncreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1])
}

async function connectReaders(server: BotsyncServer, name: string, token: string, count: number): Promise<RawClient[]> {
  return Promise.all(Array.from({ length: count }, () => RawClient.connect(wsUrlOf(server), name, token)))
}

describe('broadcasts in slices (BROADCAST_SLICE_MS)', () => {
  let server: BotsyncServer

  beforeAll(async () => {
    // 0 ms: every broadcast gives the event loop back after each connection,
    // the most interleaving there can be; no rate limit on the writer.
    server = await startServer({ BROADCAST_SLICE_MS: '0', MAX_UPDATES_PER_SECOND: '0' })
  })
  afterAll(() => server?.stop())

  it('yields between connections, yet every reader gets every edit, in order, and the writer every ack', async () => {
    const space = uniqueSpace()
    const name = `${space}/scenario/sliced`
    const token = await userToken(server, 'editor', space)
    const readers = await connectReaders(server, name, token, READERS)
    const watched = readers.map(watch)
    const writer = await RawClient.connect(wsUrlOf(server), name, token)
    const before = await broadcastStats(server)
    try {
      const updates = edits(EDITS)
      // All at once: later edits commit while earlier broadcasts are still going out.
      for (const update of updates) writer.sendUpdate(update)
      await waitFor(() => writer.statuses.length === EDITS && watched.every(({ seen }) => seen.at(-1) === EDITS - 1), 'every edit at every reader')
      expect(writer.statuses.every(Boolean)).toBe(true)
      const expected = finalState(updates)
      for (const { seen, doc } of watched) {
        expectIncreasing(seen)
        expect(Y.encodeStateAsUpdate(doc)).toEqual(expected)
      }
      const after = await broadcastStats(server)
      // READERS connections (the writer is not sent its own edits): one
      // yield after each send but the last of each broadcast, at least.
      expect(after.yields - before.yields).toBeGreaterThanOrEqual(READERS)
      expect(after.sliced - before.sliced).toBeGreaterThanOrEqual(1)
    } finally {
      writer.close()
      for (const reader of readers) reader.close()
    }
  })

  it('skips a reader that left mid-broadcast and brings one that joined up to date', async () => {
    const space = uniqueSpace()
    const name = `${space}/scenario/sliced`
    const token = await userToken(server, 'editor', space)
    const readers = await connectReaders(server, name, token, READERS)
    const watched = readers.map(watch)
    const writer = await RawClient.connect(wsUrlOf(server), name, token)
    const late: RawClient[] = []
    try {
      const updates = edits(EDITS)
      for (const update of updates.slice(0, EDITS / 2)) writer.sendUpdate(update)
      // Half the readers leave while those broadcasts are under way.
      for (const reader of readers.slice(READERS / 2)) reader.close()
      late.push(await RawClient.connect(wsUrlOf(server), name, token))
      // It got the state so far in its sync. Edit i is the writer's clock i
      // (one map entry each): the newest edit each later update carries.
      const lateSeen: number[] = []
      late[0].onUpdate = (update) => lateSeen.push(Math.max(...Y.decodeUpdate(update).structs.map((struct) => struct.id.clock + struct.length - 1)))
      for (const update of updates.slice(EDITS / 2)) writer.sendUpdate(update)
      const stayed = watched.slice(0, READERS / 2)
      await waitFor(() => writer.statuses.length === EDITS && stayed.every(({ seen }) => seen.at(-1) === EDITS - 1), 'every edit at the readers that stayed')
      const expected = finalState(updates)
      for (const { seen, doc } of stayed) {
        expectIncreasing(seen)
        expect(Y.encodeStateAsUpdate(doc)).toEqual(expected)
      }
      // From its sync on, never behind or out of order, and up to date in the end.
      await waitFor(() => lateSeen.at(-1) === EDITS - 1, 'the late reader up to date')
      expectIncreasing(lateSeen)
      expect(writer.statuses.every(Boolean)).toBe(true)
    } finally {
      writer.close()
      for (const reader of [...readers, ...late]) reader.close()
    }
  })

  it('does not send an update back to the connection it came from', async () => {
    const space = uniqueSpace()
    const name = `${space}/scenario/sliced`
    const token = await userToken(server, 'editor', space)
    const [reader] = await connectReaders(server, name, token, 1)
    const watched = watch(reader)
    const writer = await RawClient.connect(wsUrlOf(server), name, token)
    try {
      const writerGot: Uint8Array[] = []
      writer.onUpdate = (update) => writerGot.push(update)
      const updates = edits(EDITS)
      for (const update of updates) writer.sendUpdate(update)
      await waitFor(() => writer.statuses.length === EDITS && watched.seen.at(-1) === EDITS - 1, 'every edit at the reader')
      // The reader's own edit reaches the writer after anything broadcast before it (one document's broadcasts leave in order).
      const other = new Y.Doc()
      other.getMap('other').set('from', 'reader')
      reader.sendUpdate(Y.encodeStateAsUpdate(other))
      await waitFor(() => writerGot.length > 0, "the reader's edit at the writer")
      expect(writerGot).toHaveLength(1)
      expect(Y.decodeUpdate(writerGot[0]).structs.every((struct) => struct.id.client === other.clientID)).toBe(true)
    } finally {
      writer.close()
      reader.close()
    }
  })

  it("sends its sender an update that released other connections' waiting changes", async () => {
    const space = uniqueSpace()
    const name = `${space}/scenario/sliced`
    const token = await userToken(server, 'editor', space)
    // `second` builds on `first`; the server gets `second` first, from one
    // connection, and keeps it waiting; `first`, from another, releases it.
    const author = new Doc()
    const first = author.edit((doc) => doc.getText('body').insert(0, 'first'))
    const second = author.edit((doc) => doc.getText('body').insert(5, ' second'))
    const early = await RawClient.connect(wsUrlOf(server), name, token)
    const sender = await RawClient.connect(wsUrlOf(server), name, token)
    try {
      early.sendUpdate(second)
      await waitFor(() => early.statuses.length === 1, 'the waiting update acknowledged')
      const senderDoc = new Y.Doc()
      Y.applyUpdate(senderDoc, first)
      sender.onUpdate = (update) => Y.applyUpdate(senderDoc, update)
      sender.sendUpdate(first)
      // It has `first`, not `second`: only the broadcast brings it.
      await waitFor(() => senderDoc.getText('body').toString() === 'first second', 'the released change at the sender')
    } finally {
      early.close()
      sender.close()
    }
  })
})

/** One Y.Doc whose edits are returned as their updates. */
class Doc {
  private readonly doc = new Y.Doc()
  edit(change: (doc: Y.Doc) => void): Uint8Array {
    let update: Uint8Array | null = null
    const keep = (made: Uint8Array) => (update = made)
    this.doc.on('update', keep)
    this.doc.transact(() => change(this.doc))
    this.doc.off('update', keep)
    return update!
  }
}

import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { decodeFanoutMessage, encodeFanoutMessage, UnreadableFanoutMessage, type FanoutMessage } from '../src/redis/fanout-message.ts'
import { connect, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'
import { fingerprint, logOf, SHARED_REDIS_URL, sleep, uniquePrefix } from './redis-helpers.ts'

// Two real servers in this process sharing PostgreSQL and the real Redis, for
// what needs the server's own API (stateless broadcast, compaction, store).

const servers: BotsyncServer[] = []
const clients: TestClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy()
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

async function twoInstances(): Promise<[BotsyncServer, BotsyncServer]> {
  const prefix = uniquePrefix()
  const a = await startServer({ REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, INSTANCE_ID: `${prefix}-a` })
  servers.push(a)
  const b = await startServer({ REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, INSTANCE_ID: `${prefix}-b` })
  servers.push(b)
  await waitFor(() => a.redis!.isUp && b.redis!.isUp, 'both instances to reach Redis')
  return [a, b]
}

function open(server: BotsyncServer, name: string, token: string): TestClient {
  const c = connect(wsUrlOf(server), name, token)
  clients.push(c)
  return c
}

async function logRows(server: BotsyncServer, name: string): Promise<number> {
  const rows = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM document_updates WHERE name = $1', [name])
  return rows[0].n
}

async function storedFingerprint(server: BotsyncServer, name: string): Promise<string> {
  const doc = new Y.Doc()
  const { state } = await server.store.load(name)
  if (state) Y.applyUpdate(doc, state)
  return fingerprint(doc, logOf)
}

describe('fan-out messages', () => {
  it('round-trips every message type', () => {
    const messages: FanoutMessage[] = [
      { type: 'update', sender: 'n1', document: 's/settings', update: new Uint8Array([1, 2, 3]) },
      { type: 'sync-request', sender: 'n1', document: 's/buttons', stateVector: new Uint8Array([0]), awareness: null },
      { type: 'sync-reply', sender: 'n2', document: 's/buttons', diff: new Uint8Array([0, 0]), stateVector: new Uint8Array([1, 5, 3]), awareness: new Uint8Array([9]) },
      { type: 'sync-diff', sender: 'n1', document: 's/buttons', diff: new Uint8Array([0, 0]) },
      { type: 'awareness', sender: 'n1', document: 's/scenario/x', awareness: new Uint8Array([1, 1]) },
      { type: 'stateless', sender: 'n1', document: 's/activity', payload: '{"type":"x"}' },
    ]
    for (const message of messages) expect(decodeFanoutMessage(encodeFanoutMessage(message))).toEqual(message)
  })

  it('refuses bytes that are not a message of this protocol version', () => {
    expect(() => decodeFanoutMessage(new Uint8Array([]))).toThrow(UnreadableFanoutMessage)
    expect(() => decodeFanoutMessage(new Uint8Array([7, 0]))).toThrow(/version 7/)
    const valid = encodeFanoutMessage({ type: 'update', sender: 'n', document: 'd', update: new Uint8Array([1, 2, 3]) })
    expect(() => decodeFanoutMessage(valid.slice(0, valid.length - 2))).toThrow(UnreadableFanoutMessage)
  })
})

describe('fan-out between two instances', () => {
  it('stores each update once, on the instance whose client sent it', async () => {
    const [a, b] = await twoInstances()
    const space = uniqueSpace()
    const token = await userToken(a, 'editor', space)
    const name = `${space}/scenario/once`
    const onA = open(a, name, token)
    const onB = open(b, name, token)
    await Promise.all([synced(onA), synced(onB)])
    for (let i = 0; i < 20; i++) {
      onA.doc.getArray<string>('log').push([`a:${i}`])
      await sleep(5)
    }
    await waitFor(() => logOf(onB.doc).length === 20, 'B to receive all 20 edits')
    await synced(onA)
    // Give B every chance to (wrongly) store what it received.
    await sleep(200)
    expect(await logRows(a, name)).toBe(20)
  })

  it("fans out the server's own changes (ServerWriter), stored once", async () => {
    const [a, b] = await twoInstances()
    const space = uniqueSpace()
    const token = await userToken(a, 'viewer', space)
    const name = `${space}/activity`
    const onA = open(a, name, token)
    const onB = open(b, name, token)
    await Promise.all([synced(onA), synced(onB)])
    await a.writer.change(name, (doc) => doc.getArray<string>('log').push(['from the server on A']))
    await waitFor(() => logOf(onB.doc).includes('from the server on A'), "A's server-side change on B", 5_000)
    await sleep(200)
    expect(await logRows(a, name)).toBe(1)
  })

  it('relays stateless broadcasts to the clients of other instances', async () => {
    const [a, b] = await twoInstances()
    const space = uniqueSpace()
    const token = await userToken(a, 'viewer', space)
    const name = `${space}/activity`
    const onA = open(a, name, token)
    const onB = open(b, name, token)
    await Promise.all([synced(onA), synced(onB)])
    const payload = JSON.stringify({ type: 'botsync:test', at: Date.now() })
    a.server.hocuspocus.documents.get(name)!.broadcastStateless(payload)
    await waitFor(() => onB.stateless.includes(payload), 'the broadcast on B', 5_000)
    expect(onA.stateless).toContain(payload)
    expect(onB.stateless.filter((p) => p === payload)).toHaveLength(1)
  })

  it('compacts a document open on both instances concurrently from both: state unchanged, no error', async () => {
    const [a, b] = await twoInstances()
    const space = uniqueSpace()
    const token = await userToken(a, 'editor', space)
    const name = `${space}/scenario/compact`
    const onA = open(a, name, token)
    const onB = open(b, name, token)
    await Promise.all([synced(onA), synced(onB)])
    for (let i = 0; i < 100; i++) {
      onA.doc.getArray<string>('log').push([`a:${i}`])
      onB.doc.getArray<string>('log').push([`b:${i}`])
      if (i % 10 === 0) await sleep(5)
    }
    await Promise.all([synced(onA), synced(onB)])
    await waitFor(() => fingerprint(onA.doc, logOf) === fingerprint(onB.doc, logOf), 'replicas to agree')
    const before = fingerprint(onA.doc, logOf)
    expect(await storedFingerprint(a, name)).toBe(before)
    const rowsBefore = await logRows(a, name)
    expect(rowsBefore).toBeGreaterThanOrEqual(2)

    // A holds the document's compaction lock while B starts its own and a
    // client keeps editing; B's compaction must wait, then fold only the rest.
    let fromB: ReturnType<BotsyncServer['store']['compact']> | undefined
    const fromA = a.store.compact(name, {
      afterSnapshotWritten: async () => {
        fromB = b.store.compact(name)
        onB.doc.getArray<string>('log').push(['b:during'])
        await synced(onB)
        await sleep(50)
      },
    })
    const resultA = await fromA
    expect(fromB).toBeDefined()
    const resultB = await fromB!
    expect(resultA.merged).toBe(rowsBefore)
    expect(resultB.merged).toBe(1)
    // And once more from both at once, with nothing left to fold: a no-op.
    const again = await Promise.all([a.store.compact(name), b.store.compact(name)])
    expect(again.map((r) => r.merged)).toEqual([0, 0])

    expect(await logRows(a, name)).toBe(0)
    await waitFor(() => logOf(onA.doc).includes('b:during'), 'the edit made during compaction on A')
    const after = fingerprint(onA.doc, logOf)
    expect(after).toBe(fingerprint(onB.doc, logOf))
    expect(await storedFingerprint(b, name)).toBe(after)
    expect(logOf(onA.doc).filter((entry) => entry !== 'b:during')).toEqual(JSON.parse(before.split('|')[1]))
  })
})

import { Writable } from 'node:stream'
import { docName } from '@botsync/shared-docs'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { BotsyncServer } from '../src/botsync-server.ts'
import { loadConfig } from '../src/config.ts'
import { connect, synced, testEnv, uniqueSpace, userToken, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'
import { largeDocument, plantLog, plantSnapshot, typingSession } from '@botsync/testkit/planted-log'

/** The one space of this file (its user is an editor there); each test uses its own documents in it. */
const LOG_SPACE = uniqueSpace()

interface LogLine {
  event?: string
  /** performance.now() when the line was written (in this process: the server runs here). */
  at: number
  [key: string]: unknown
}

/** The real server in this process, its log lines captured with the moment each was written. */
async function startLoggedServer(): Promise<{ server: BotsyncServer; lines: LogLine[] }> {
  const lines: LogLine[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const at = performance.now()
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push({ ...JSON.parse(line), at })
      done()
    },
  })
  const { server } = await BotsyncServer.start(loadConfig(testEnv()), pino({ level: 'info' }, sink))
  return { server, lines }
}

/**
 * While `whileLoading` runs: an editor keeps typing into another document
 * (one edit at a time, each waiting for its acknowledgement) and /health is
 * polled. Returns when each acknowledgement and each /health answer arrived.
 */
async function busyNeighbour(server: BotsyncServer, token: string, whileLoading: () => Promise<void>) {
  const editor = connect(wsUrlOf(server), docName.settings(LOG_SPACE), token)
  await synced(editor)
  const acks: number[] = []
  const health: number[] = []
  let loading = true
  const typing = (async () => {
    const text = editor.doc.getText('welcome')
    while (loading) {
      text.insert(text.length, 'x')
      await waitFor(() => editor.provider.unsyncedChanges === 0, 'the neighbour edit to be acknowledged', 60_000)
      acks.push(performance.now())
    }
  })()
  const polling = (async () => {
    while (loading) {
      const response = await fetch(`http://127.0.0.1:${server.port}/health`)
      if (response.status === 200) health.push(performance.now())
      await response.arrayBuffer()
    }
  })()
  try {
    await whileLoading()
  } finally {
    loading = false
    await Promise.all([typing, polling])
    editor.destroy()
  }
  return { acks, health }
}

async function documentLoaded(lines: LogLine[], name: string): Promise<LogLine> {
  await waitFor(() => lines.some((line) => line.event === 'document-loaded' && line.document === name), `${name} to be loaded`, 60_000)
  return lines.find((line) => line.event === 'document-loaded' && line.document === name)!
}

async function logRows(server: BotsyncServer, name: string): Promise<number> {
  const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM document_updates WHERE name = $1', [name])
  return row.n
}

async function storedText(server: BotsyncServer, name: string, root: string): Promise<string> {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, (await server.store.load(name)).state!)
  return doc.getText(root).toString()
}

describe('long update logs', () => {
  let server: BotsyncServer
  let lines: LogLine[]
  let token: string
  const clients: TestClient[] = []

  beforeAll(async () => {
    ;({ server, lines } = await startLoggedServer())
    token = await userToken(server, 'editor', LOG_SPACE)
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
  })

  /**
   * Loads `name` through the real server with a provider while a neighbour
   * document is edited and /health is polled; checks both kept answering
   * during the fold, which is the long part of the load.
   */
  async function loadWhileBusy(name: string) {
    let reader!: TestClient
    const { acks, health } = await busyNeighbour(server, token, async () => {
      reader = connect(wsUrlOf(server), name, token)
      clients.push(reader)
      await synced(reader, 60_000)
    })
    const loaded = await documentLoaded(lines, name)
    const foldEnd = loaded.at
    const foldStart = foldEnd - (loaded.foldMs as number)
    const during = (times: number[]) => times.filter((at) => at > foldStart && at < foldEnd).length
    // A fold on the event loop would leave no room for either.
    expect(loaded.where).toBe('worker')
    expect(during(acks), 'neighbour acknowledgements while the log was folded').toBeGreaterThan(0)
    expect(during(health), '/health answers while the log was folded').toBeGreaterThan(0)
    return { reader, loaded }
  }

  it('loads 100,000 one-character updates without stalling other documents, then compacts them in steps', async () => {
    const name = docName.scenario(LOG_SPACE, 'long')
    const { updates, doc } = typingSession(100_000)
    await plantLog(server.db, name, updates)
    const expected = doc.getText('message').toString()

    const { reader, loaded } = await loadWhileBusy(name)
    expect(loaded.updates).toBe(100_000)
    expect(reader.doc.getText('message').toString()).toBe(expected)

    // Found with a long log, it is compacted right after the load, in bounded steps.
    const isCompaction = (line: LogLine) => line.event === 'document-compacted' && line.document === name
    await waitFor(() => lines.some(isCompaction), 'the catch-up compaction', 60_000)
    const compacted = lines.find(isCompaction)!
    expect(await logRows(server, name)).toBe(0)
    expect(compacted.merged).toBe(100_000)
    expect(compacted.steps).toBeGreaterThanOrEqual(5)
    expect(await storedText(server, name, 'message')).toBe(expected)
    const health = await (await fetch(`http://127.0.0.1:${server.port}/health`)).json()
    expect(health.storage.documents.find((entry: { document: string }) => entry.document === name)).toMatchObject({ updates: 0 })
    expect(health.storage.loads.count).toBeGreaterThan(0)
    expect(health.storage.compactions.count).toBeGreaterThan(0)

    // Still live: an edit after all that is saved and served.
    reader.doc.getText('message').insert(0, '>')
    await synced(reader)
    expect(await storedText(server, name, 'message')).toBe('>' + expected)
  })

  it('loads 10,000 updates behind a 5 MB snapshot the same way', async () => {
    const name = docName.scenario(LOG_SPACE, 'large')
    const doc = largeDocument(5 * 1024 * 1024)
    const snapshot = Y.encodeStateAsUpdate(doc)
    expect(snapshot.byteLength).toBeGreaterThan(5 * 1024 * 1024)
    await plantSnapshot(server.db, name, snapshot)
    const { updates } = typingSession(10_000, { doc })
    await plantLog(server.db, name, updates)

    const { reader, loaded } = await loadWhileBusy(name)
    expect(loaded.snapshotBytes).toBe(snapshot.byteLength)
    expect(loaded.updates).toBe(10_000)
    expect(reader.doc.getText('message').toString()).toBe(doc.getText('message').toString())
    expect(reader.doc.getArray('steps').length).toBe(doc.getArray('steps').length)
  })

  /** Client 778, clock 0: an item whose origin is its own future clock 5. It decodes, and Y.applyUpdate throws on it. */
  const POISON = new Uint8Array([0x01, 0x01, 0x8a, 0x06, 0x00, 0x84, 0x8a, 0x06, 0x05, 0x04, 0x65, 0x76, 0x69, 0x6c, 0x00])

  // Both paths: a short log folds on the event loop, a long one in a worker.
  it.each([
    ['a short log', 20],
    ['a long log', 2000],
  ])('quarantines a poison update in %s and serves everything around it', async (_label, count) => {
    const name = docName.scenario(LOG_SPACE, `poisoned-${count}`)
    const { updates, doc } = typingSession(count)
    const half = count / 2
    const ids = await plantLog(server.db, name, [...updates.slice(0, half), POISON, ...updates.slice(half)])
    const poisonId = ids[half]

    const reader = connect(wsUrlOf(server), name, token)
    clients.push(reader)
    await synced(reader)
    expect(reader.doc.getText('message').toString()).toBe(doc.getText('message').toString())

    const quarantined = await server.db.query<{ original_id: number; name: string; update: Uint8Array; error: string }>(
      'SELECT original_id, name, update, error FROM quarantined_updates WHERE name = $1',
      [name],
    )
    expect(quarantined).toHaveLength(1)
    expect(Number(quarantined[0].original_id)).toBe(poisonId)
    expect(new Uint8Array(quarantined[0].update)).toEqual(POISON)
    expect(quarantined[0].error).toMatch(/^[a-z]+(-[a-z]+)*: /)
    const logged = lines.filter((line) => line.event === 'update-quarantined' && line.document === name)
    expect(logged).toMatchObject([{ id: poisonId, during: 'load' }])

    const health = await (await fetch(`http://127.0.0.1:${server.port}/health`)).json()
    expect(health.storage.quarantined.total).toBeGreaterThanOrEqual(1)
    expect(health.storage.quarantined.thisInstance).toBeGreaterThanOrEqual(1)
    expect(health.storage.documents.find((entry: { document: string }) => entry.document === name)).toMatchObject({ quarantined: 1, updates: count + 1 })

    // Compaction now succeeds: it folds the rest and moves the poison out of the log (logged once, at load).
    const result = await server.store.compact(name)
    expect(result).toMatchObject({ merged: count + 1, quarantined: 1 })
    expect(await logRows(server, name)).toBe(0)
    expect(await storedText(server, name, 'message')).toBe(doc.getText('message').toString())
    expect(lines.filter((line) => line.event === 'update-quarantined' && line.document === name)).toHaveLength(1)
    expect(await server.db.query('SELECT 1 FROM quarantined_updates WHERE name = $1', [name])).toHaveLength(1)
  })
})

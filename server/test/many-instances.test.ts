import { DocumentStore, openDatabase, type Database } from '@botsync/persistence'
import {
  addStep,
  docName,
  getStepMessage,
  initScenarioDoc,
  initSettingsDoc,
  projectPublicContent,
  projectScenario,
  setSettingsText,
  setStepMessage,
  setTextPublic,
} from '@botsync/shared-docs'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { connect, DATABASE_URL, login, ownSpace, spawnServer, synced, uniqueSpace, waitFor, type ServerProcess, type TestClient } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'
import { fingerprint, health, killClients, logOf, missingEdits, PrivateRedis, SHARED_REDIS_URL, sleep, uniquePrefix } from './redis-helpers.ts'

// Real server processes, real PostgreSQL, real Redis. Outages use a Redis of
// the test's own (PrivateRedis) or kill only this test's named connections on
// the shared one: other engineers' tests use the shared Redis concurrently.

/** How long replicas may take to agree once the fault is over (the bound). */
const CONVERGE_MS = 5_000

let db: Database
let store: DocumentStore
const processes: ServerProcess[] = []
const clients: TestClient[] = []
const redises: PrivateRedis[] = []

beforeAll(async () => {
  db = await openDatabase({ databaseUrl: DATABASE_URL })
  store = new DocumentStore(db)
})

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy()
  for (const p of processes.splice(0)) p.child.kill('SIGKILL')
  for (const redis of redises.splice(0)) await redis.stop()
})

afterAll(async () => {
  await db.close()
})

interface Instances {
  a: ServerProcess
  b: ServerProcess
  env: Record<string, string>
  prefix: string
  token: string
  /** The owner's email (ownSpace(email) gives it a space of its own). */
  email: string
}

/** Two instances sharing database, JWT secret, Redis and channel prefix; started one after the other (the first creates the owner). */
async function startInstances(redisUrl: string, options: { bUrl?: string; env?: Record<string, string> } = {}): Promise<Instances> {
  const prefix = uniquePrefix()
  const email = `owner-${prefix}@test.local`
  const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'many instances', ...options.env }
  const a = await spawnServer({ ...env, INSTANCE_ID: `${prefix}-a` })
  processes.push(a)
  const b = await spawnServer({ ...env, INSTANCE_ID: `${prefix}-b`, REDIS_URL: options.bUrl ?? redisUrl })
  processes.push(b)
  const token = await login(a.url, email, 'many instances')
  return { a, b, env, prefix, token, email }
}

function client(url: string, name: string, token: string): TestClient {
  const c = connect(url, name, token)
  clients.push(c)
  return c
}

/** Runs writers that each append `count` entries `<id>:<i>` to the shared log, pausing between edits. */
function runWriters(writers: Array<{ id: string; client: TestClient }>, count: number, pauseMs: number) {
  const progress = new Map(writers.map(({ id }) => [id, 0]))
  const done = Promise.all(
    writers.map(async ({ id, client: c }) => {
      const log = c.doc.getArray<string>('log')
      for (let i = 0; i < count; i++) {
        log.push([`${id}:${i}`])
        progress.set(id, i + 1)
        await sleep(pauseMs)
      }
    }),
  )
  return { done, edits: () => [...progress.values()].reduce((sum, n) => sum + n, 0) }
}

async function allAcknowledged(cs: TestClient[], timeoutMs = 20_000): Promise<void> {
  await waitFor(() => cs.every((c) => c.provider.isSynced && c.provider.unsyncedChanges === 0), 'every edit to be acknowledged', timeoutMs)
}

/** The document as PostgreSQL has it (what a restarted instance would serve). */
async function storedDoc(name: string): Promise<Y.Doc> {
  const doc = new Y.Doc()
  const { state } = await store.load(name)
  if (state) Y.applyUpdate(doc, state)
  return doc
}

async function converged(docs: Y.Doc[], project: (doc: Y.Doc) => unknown, what: string, timeoutMs = CONVERGE_MS): Promise<void> {
  await waitFor(() => new Set(docs.map((doc) => fingerprint(doc, project))).size === 1, what, timeoutMs)
}

async function expectHealth(url: string, status: 'ok' | 'degraded'): Promise<void> {
  await waitFor(async () => (await health(url)).body.status === status, `/health of ${url} to be ${status}`, 10_000)
  const { httpStatus, body } = await health(url)
  expect(httpStatus).toBe(200)
  expect(body.checks.redis.status).toBe(status === 'ok' ? 'ok' : 'down')
  expect(body.checks.database.status).toBe('ok')
}

describe('many instances through Redis', () => {
  it('co-edits one scenario from two instances into byte-identical replicas, with presence', async () => {
    const { a, b, token, email } = await startInstances(SHARED_REDIS_URL)
    const name = `${await ownSpace(email)}/scenario/welcome`
    // Seeded on the server side only: straight into storage, as the server seeds.
    const seed = new Y.Doc()
    initScenarioDoc(seed)
    addStep(seed, { id: 'greet', message: 'Hello' })
    addStep(seed, { id: 'ask', message: 'Your name?' })
    await store.append(name, Y.encodeStateAsUpdate(seed))

    const ana = client(a.wsUrl, name, token)
    const bob = client(b.wsUrl, name, token)
    await Promise.all([synced(ana), synced(bob)])
    for (let i = 0; i < 20; i++) {
      addStep(ana.doc, { message: `step ${i} by Ana` })
      setStepMessage(bob.doc, 'greet', `Hello, round ${i}`)
      // Both type at the same place at the same time.
      getStepMessage(ana.doc, 'ask')!.insert(0, 'a')
      getStepMessage(bob.doc, 'ask')!.insert(0, 'b')
      await sleep(5)
    }
    await allAcknowledged([ana, bob])
    const readerA = client(a.wsUrl, name, token)
    const readerB = client(b.wsUrl, name, token)
    await Promise.all([synced(readerA), synced(readerB)])
    const replicas = [ana.doc, bob.doc, readerA.doc, readerB.doc]
    await converged(replicas, projectScenario, 'replicas on both instances to agree')
    await converged([...replicas, await storedDoc(name)], projectScenario, 'the stored document to agree', 1)

    const scenario = projectScenario(bob.doc)
    expect(Object.keys(scenario.steps)).toHaveLength(22)
    expect(scenario.steps.greet.message).toBe('Hello, round 19')
    const ask = scenario.steps.ask.message
    expect(ask.endsWith('Your name?')).toBe(true)
    expect([...ask.slice(0, 40)].filter((c) => c === 'a')).toHaveLength(20)
    expect([...ask.slice(0, 40)].filter((c) => c === 'b')).toHaveLength(20)

    // Presence set through A is seen on B, and removed when Ana leaves.
    ana.provider.setAwarenessField('user', { name: 'Ana', editing: 'greet' })
    const anaId = ana.doc.clientID
    await waitFor(() => bob.provider.awareness!.getStates().get(anaId)?.user?.name === 'Ana', "Ana's presence on B", 5_000)
    ana.destroy()
    // Well under y-protocols' 30 s timeout: the removal itself was fanned out.
    await waitFor(() => !bob.provider.awareness!.getStates().has(anaId), "Ana's presence to leave B", 5_000)
    await waitFor(() => !readerB.provider.awareness!.getStates().has(anaId), "Ana's presence to leave B's other client", 5_000)
  })

  it('sends an admin’s edit on one instance to Mini App readers on the other', async () => {
    const space = uniqueSpace()
    const telegramToken = `123456:instances-${space}`
    const { a, b, token } = await startInstances(SHARED_REDIS_URL, { env: { TELEGRAM_BOT_TOKEN: telegramToken, BOT_SPACE: space } })
    const admin = client(a.wsUrl, docName.settings(space), token)
    await synced(admin)
    initSettingsDoc(admin.doc)
    setSettingsText(admin.doc, 'welcome', 'Hello from A')
    setTextPublic(admin.doc, 'welcome', true)
    await synced(admin)
    const readers = Array.from({ length: 3 }, (_, i) =>
      client(b.wsUrl.replace(/\/collab$/, '/readers'), docName.public(space), signInitData(telegramToken, { user: { id: 500 + i, first_name: `R${i}` } })),
    )
    const welcome = (reader: TestClient) => projectPublicContent(reader.doc).texts.welcome
    await waitFor(() => readers.every((reader) => welcome(reader) === 'Hello from A'), 'readers on B to see the text published on A')
    setSettingsText(admin.doc, 'welcome', 'Edited on A')
    await waitFor(() => readers.every((reader) => welcome(reader) === 'Edited on A'), 'readers on B to follow the edit')
    setTextPublic(admin.doc, 'welcome', false)
    await waitFor(() => readers.every((reader) => welcome(reader) === undefined), 'readers on B to lose the unpublished text')
  })

  it('loses no acknowledged edit when an instance is SIGKILLed under 10 writers, and agrees within 5 s of its restart', async () => {
    const { a, b, env, prefix, token, email } = await startInstances(SHARED_REDIS_URL)
    const name = `${await ownSpace(email)}/scenario/load`
    const writers = Array.from({ length: 10 }, (_, i) => ({
      id: `w${i}`,
      onA: i < 5,
      client: client(i < 5 ? a.wsUrl : b.wsUrl, name, token),
    }))
    await Promise.all(writers.map((w) => synced(w.client)))
    const run = runWriters(writers, 200, 4)

    await waitFor(() => run.edits() >= 600, '600 edits before the crash', 30_000)
    a.child.kill('SIGKILL')
    await a.exited
    // What a load balancer does: A's clients reconnect to B.
    for (const w of writers) if (w.onA) w.client.socket.configuration.url = b.wsUrl
    await run.done
    await allAcknowledged(writers.map((w) => w.client))

    const restarted = await spawnServer({ ...env, INSTANCE_ID: `${prefix}-a2` })
    processes.push(restarted)
    const restartedAt = Date.now()
    const readerA = client(restarted.wsUrl, name, token)
    const readerB = client(b.wsUrl, name, token)
    const replicas = [...writers.map((w) => w.client.doc), readerA.doc, readerB.doc]
    await converged(replicas, logOf, 'all replicas to agree after the restart')
    expect(Date.now() - restartedAt).toBeLessThanOrEqual(CONVERGE_MS)

    const ids = writers.map((w) => w.id)
    expect(missingEdits(logOf(readerA.doc), ids, 200)).toEqual([])
    expect(logOf(readerA.doc)).toHaveLength(2000)
    const stored = await storedDoc(name)
    expect(missingEdits(logOf(stored), ids, 200)).toEqual([])
    expect(fingerprint(stored, logOf)).toBe(fingerprint(readerB.doc, logOf))
  })

  it('keeps serving while Redis is down, reports degraded, and re-converges within 5 s of Redis restarting', async () => {
    const redis = await PrivateRedis.create()
    redises.push(redis)
    await redis.start()
    const { a, b, token, email } = await startInstances(redis.url)
    await expectHealth(a.url, 'ok')
    const name = `${await ownSpace(email)}/scenario/outage`
    const writers = ['a0', 'a1', 'b0', 'b1'].map((id) => ({ id, client: client(id.startsWith('a') ? a.wsUrl : b.wsUrl, name, token) }))
    await Promise.all(writers.map((w) => synced(w.client)))
    const run = runWriters(writers, 150, 10)

    await waitFor(() => run.edits() >= 100, 'edits before the outage', 30_000)
    await redis.stop()
    await expectHealth(a.url, 'degraded')
    await expectHealth(b.url, 'degraded')
    expect((await health(a.url)).body.checks.redis.detail).toBeTruthy()
    await run.done
    // Every client's edits are saved by its own instance while Redis is away.
    await allAcknowledged(writers.map((w) => w.client))
    const onA = writers[0].client.doc
    const onB = writers[2].client.doc
    expect(fingerprint(onA, logOf)).not.toBe(fingerprint(onB, logOf))
    expect((await health(a.url)).body.fanout!.dropped).toBeGreaterThan(0)

    await redis.start()
    const returnedAt = Date.now()
    await converged(
      writers.map((w) => w.client.doc),
      logOf,
      'replicas to agree after Redis returns',
    )
    expect(Date.now() - returnedAt).toBeLessThanOrEqual(CONVERGE_MS)
    expect(
      missingEdits(
        logOf(onA),
        writers.map((w) => w.id),
        150,
      ),
    ).toEqual([])
    const stored = await storedDoc(name)
    expect(fingerprint(stored, logOf)).toBe(fingerprint(onB, logOf))
    await expectHealth(a.url, 'ok')
    await expectHealth(b.url, 'ok')
    // The outage is logged once, not once per reconnection attempt.
    const downLogs = a.output.filter((line) => line.includes('"event":"redis-down"'))
    expect(downLogs).toHaveLength(1)
    expect(a.output.some((line) => line.includes('"event":"redis-up"'))).toBe(true)
  })

  it('re-converges within 5 s after its Redis connections are killed mid-stream (CLIENT KILL)', async () => {
    const admin = new Redis(SHARED_REDIS_URL)
    try {
      const { a, b, prefix, token, email } = await startInstances(SHARED_REDIS_URL)
      const name = `${await ownSpace(email)}/scenario/kill`
      const writers = ['a0', 'a1', 'b0', 'b1'].map((id) => ({ id, client: client(id.startsWith('a') ? a.wsUrl : b.wsUrl, name, token) }))
      await Promise.all(writers.map((w) => synced(w.client)))
      const run = runWriters(writers, 150, 8)
      await waitFor(() => run.edits() >= 100, 'edits before the first kill', 30_000)
      // Subscribers only first (the asymmetric case: A still publishes, hears nothing), then everything, twice.
      expect(await killClients(admin, `${prefix}:${prefix}-a:sub`)).toBe(1)
      await sleep(150)
      expect(await killClients(admin, `${prefix}:${prefix}-b:sub`)).toBe(1)
      await sleep(150)
      expect(await killClients(admin, `${prefix}:`)).toBeGreaterThanOrEqual(2)
      await sleep(300)
      expect(await killClients(admin, `${prefix}:`)).toBeGreaterThanOrEqual(1)
      const lastKillAt = Date.now()
      await run.done
      await allAcknowledged(writers.map((w) => w.client))
      await converged(
        writers.map((w) => w.client.doc),
        logOf,
        'replicas to agree after the kills',
        CONVERGE_MS - (Date.now() - lastKillAt),
      )
      expect(
        missingEdits(
          logOf(writers[0].client.doc),
          writers.map((w) => w.id),
          150,
        ),
      ).toEqual([])
      expect(fingerprint(await storedDoc(name), logOf)).toBe(fingerprint(writers[3].client.doc, logOf))
      expect(a.output.some((line) => line.includes('"event":"redis-up"'))).toBe(true)
    } finally {
      admin.disconnect()
    }
  })

  it('starts without Redis, serves alone with /health degraded, and joins the others when Redis appears', async () => {
    const redis = await PrivateRedis.create()
    redises.push(redis)
    const { a, b, token, email } = await startInstances(redis.url)
    await expectHealth(a.url, 'degraded')
    expect((await health(a.url)).body.checks.redis.detail).toMatch(/ECONNREFUSED|closed/)
    const name = `${await ownSpace(email)}/scenario/late-redis`
    const onA = client(a.wsUrl, name, token)
    const onB = client(b.wsUrl, name, token)
    await Promise.all([synced(onA), synced(onB)])
    onA.doc.getArray<string>('log').push(['a:0'])
    onB.doc.getArray<string>('log').push(['b:0'])
    await allAcknowledged([onA, onB])
    await sleep(200)
    expect(logOf(onA.doc)).toEqual(['a:0'])

    await redis.start()
    const startedAt = Date.now()
    await converged([onA.doc, onB.doc], logOf, 'instances to exchange what they hold once Redis appears')
    expect(Date.now() - startedAt).toBeLessThanOrEqual(CONVERGE_MS)
    expect(logOf(onA.doc).sort()).toEqual(['a:0', 'b:0'])
    await expectHealth(a.url, 'ok')
    // From now on, live fan-out.
    onB.doc.getArray<string>('log').push(['b:1'])
    await waitFor(() => logOf(onA.doc).includes('b:1'), 'a live edit from B on A', 5_000)
  })

  it('shuts down on SIGTERM: clients get a reason, reconnect elsewhere, and nothing is lost', async () => {
    const admin = new Redis(SHARED_REDIS_URL)
    try {
      const { a, b, prefix, token, email } = await startInstances(SHARED_REDIS_URL)
      const name = `${await ownSpace(email)}/scenario/drain`
      const writer = client(a.wsUrl, name, token)
      const watcher = client(b.wsUrl, name, token)
      await Promise.all([synced(writer), synced(watcher)])
      const closes: Array<{ code: number; reason: string }> = []
      writer.socket.on('disconnect', ({ event }: { event: { code: number; reason: string } }) => {
        closes.push({ code: event.code, reason: event.reason })
        writer.socket.configuration.url = b.wsUrl
      })
      const run = runWriters([{ id: 'w', client: writer }], 200, 4)
      await waitFor(() => run.edits() >= 50, 'edits before SIGTERM', 30_000)
      const channel = `${prefix}:doc:${name}`
      expect(((await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]).toBe(2)

      a.child.kill('SIGTERM')
      expect(await a.exited).toBe(0)
      expect(closes[0]).toEqual({ code: 1001, reason: 'server-shutting-down' })
      expect(a.output.some((line) => line.includes('"event":"stopped"'))).toBe(true)
      // A left the document's channel; only B listens now.
      expect(((await admin.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]).toBe(1)

      await run.done
      await allAcknowledged([writer])
      await converged([writer.doc, watcher.doc], logOf, 'the writer (now on B) and B to agree')
      expect(missingEdits(logOf(watcher.doc), ['w'], 200)).toEqual([])
      expect(missingEdits(logOf(await storedDoc(name)), ['w'], 200)).toEqual([])
    } finally {
      admin.disconnect()
    }
  })
})

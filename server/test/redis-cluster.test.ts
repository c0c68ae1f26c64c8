import { DocumentStore, openDatabase, type Database } from '@botsync/persistence'
import { addStep, docName, initScenarioDoc, initSettingsDoc, projectPublicContent, projectScenario, setSettingsText, setStepMessage, setTextPublic } from '@botsync/shared-docs'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RedisCluster } from '@botsync/testkit/redis-cluster'
import { connect, DATABASE_URL, login, ownSpace, spawnServer, synced, testEnv, uniqueSpace, waitFor, type ServerProcess, type TestClient } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'
import { loadConfig } from '../src/config.ts'
import { fingerprint, health, logOf, missingEdits, sleep, uniquePrefix } from './redis-helpers.ts'

// Two real server processes on a Redis Cluster of 3 masters that this file
// starts on free loopback ports (RedisCluster) and removes at the end; the
// master-loss case runs last, since it kills and restarts a master.

/** How long replicas may take to agree once the cluster has recovered (the bound). */
const CONVERGE_MS = 5_000

let cluster: RedisCluster
let db: Database
let store: DocumentStore
const processes: ServerProcess[] = []
const clients: TestClient[] = []

beforeAll(async () => {
  cluster = await RedisCluster.start()
  db = await openDatabase({ databaseUrl: DATABASE_URL })
  store = new DocumentStore(db)
})

afterEach(() => {
  for (const client of clients.splice(0)) client.destroy()
  for (const p of processes.splice(0)) p.child.kill('SIGKILL')
})

afterAll(async () => {
  await cluster?.stop()
  await db?.close()
})

async function startInstances(env: Record<string, string> = {}) {
  const prefix = uniquePrefix()
  const email = `owner-${prefix}@test.local`
  const shared = { REDIS_CLUSTER_NODES: cluster.seedNodes, REDIS_PREFIX: prefix, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'cluster', ...env }
  const a = await spawnServer({ ...shared, INSTANCE_ID: `${prefix}-a` })
  processes.push(a)
  const b = await spawnServer({ ...shared, INSTANCE_ID: `${prefix}-b` })
  processes.push(b)
  await waitFor(async () => (await health(a.url)).body.status === 'ok' && (await health(b.url)).body.status === 'ok', 'both instances to reach the cluster')
  const token = await login(a.url, email, 'cluster')
  return { a, b, prefix, email, token }
}

function client(url: string, name: string, token: string): TestClient {
  const c = connect(url, name, token)
  clients.push(c)
  return c
}

/** A client of the master that owns `key`'s slot, for PUBSUB questions about a sharded channel. */
async function masterOf(key: string): Promise<{ index: number; redis: Redis }> {
  const index = await cluster.indexOfKey(key)
  return { index, redis: new Redis({ host: '127.0.0.1', port: cluster.nodes[index].port, lazyConnect: true }) }
}

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

async function allAcknowledged(cs: TestClient[]): Promise<void> {
  await waitFor(() => cs.every((c) => c.provider.isSynced && c.provider.unsyncedChanges === 0), 'every edit to be acknowledged', 20_000)
}

async function storedDoc(name: string): Promise<Y.Doc> {
  const doc = new Y.Doc()
  const { state } = await store.load(name)
  if (state) Y.applyUpdate(doc, state)
  return doc
}

async function converged(docs: Y.Doc[], project: (doc: Y.Doc) => unknown, what: string, timeoutMs = CONVERGE_MS): Promise<void> {
  await waitFor(() => new Set(docs.map((doc) => fingerprint(doc, project))).size === 1, what, timeoutMs)
}

describe('Redis Cluster configuration', () => {
  const config = (env: Record<string, string>) => {
    const { redisUrl, redisCluster } = loadConfig({ ...testEnv(), ...env })
    return { redisUrl, redisCluster }
  }

  it('takes seed nodes, or one node URL with REDIS_CLUSTER=1 (its password and TLS for every node)', () => {
    expect(config({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-2:7001,[::1]:7002' })).toEqual({
      redisUrl: undefined,
      redisCluster: {
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'redis-2', port: 7001 },
          { host: '::1', port: 7002 },
        ],
        tls: false,
      },
    })
    expect(config({ REDIS_URL: 'rediss://bot:s%40cret@node-1:7000', REDIS_CLUSTER: '1' }).redisCluster).toEqual({
      nodes: [{ host: 'node-1', port: 7000 }],
      username: 'bot',
      password: 's@cret',
      tls: true,
    })
    expect(config({ REDIS_URL: 'redis://one:6379', REDIS_CLUSTER: '0' })).toEqual({ redisUrl: 'redis://one:6379', redisCluster: undefined })
  })

  it('refuses what cannot be meant, saying what to write instead', () => {
    expect(() => config({ REDIS_CLUSTER_NODES: '10.0.0.1' })).toThrow(/host:port entries separated by commas.*got "10.0.0.1"/)
    expect(() => config({ REDIS_CLUSTER_NODES: 'a:7000,b:99999' })).toThrow(/got "b:99999"/)
    expect(() => config({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://a:7000' })).toThrow(/not both/)
    expect(() => config({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_CLUSTER: '0' })).toThrow(/REDIS_CLUSTER=0/)
    expect(() => config({ REDIS_CLUSTER: '1' })).toThrow(/needs REDIS_URL/)
    expect(() => config({ REDIS_CLUSTER: 'yes', REDIS_URL: 'redis://a:7000' })).toThrow(/REDIS_CLUSTER must be 1 or 0/)
    expect(() => config({ REDIS_CLUSTER: '1', REDIS_URL: 'redis://a:7000/2' })).toThrow(/only database 0/)
  })
})

describe('many instances through a Redis Cluster', () => {
  it('co-edits across instances through sharded pub/sub, with presence, readers and shared login limits', async () => {
    const botSpace = uniqueSpace()
    const telegramToken = `123456:cluster-${botSpace}`
    const { a, b, prefix, email, token } = await startInstances({
      TELEGRAM_BOT_TOKEN: telegramToken,
      BOT_SPACE: botSpace,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_SLOWDOWN_AFTER: '100',
    })
    const space = await ownSpace(email)
    const name = `${space}/scenario/welcome`
    const seed = new Y.Doc()
    initScenarioDoc(seed)
    addStep(seed, { id: 'greet', message: 'Hello' })
    await store.append(name, Y.encodeStateAsUpdate(seed))

    const ana = client(a.wsUrl, name, token)
    const bob = client(b.wsUrl, name, token)
    await Promise.all([synced(ana), synced(bob)])
    for (let i = 0; i < 10; i++) {
      addStep(ana.doc, { message: `step ${i} by Ana` })
      setStepMessage(bob.doc, 'greet', `Hello, round ${i}`)
      await sleep(5)
    }
    await allAcknowledged([ana, bob])
    await converged([ana.doc, bob.doc, await storedDoc(name)], projectScenario, 'both instances and PostgreSQL to agree')
    expect(Object.keys(projectScenario(bob.doc).steps)).toHaveLength(11)
    expect(projectScenario(ana.doc).steps.greet.message).toBe('Hello, round 9')

    // The document's channel is sharded: both instances listen on its slot's master, none through plain pub/sub.
    const channel = `${prefix}:doc:${name}`
    const { redis } = await masterOf(channel)
    try {
      expect(((await redis.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]).toBe(2)
      expect(((await redis.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]).toBe(0)
    } finally {
      redis.disconnect()
    }

    // Presence set through A is seen on B, and leaves with Ana.
    ana.provider.setAwarenessField('user', { name: 'Ana', editing: 'greet' })
    const anaId = ana.doc.clientID
    await waitFor(() => bob.provider.awareness!.getStates().get(anaId)?.user?.name === 'Ana', "Ana's presence on B", 5_000)
    ana.destroy()
    await waitFor(() => !bob.provider.awareness!.getStates().has(anaId), "Ana's presence to leave B", 5_000)

    // An admin's edit on A reaches Mini App readers on B.
    const settings = client(a.wsUrl, docName.settings(botSpace), token)
    await synced(settings)
    initSettingsDoc(settings.doc)
    setSettingsText(settings.doc, 'welcome', 'Hello from A')
    setTextPublic(settings.doc, 'welcome', true)
    const readers = [0, 1].map((i) =>
      client(b.wsUrl.replace(/\/collab$/, '/readers'), docName.public(botSpace), signInitData(telegramToken, { user: { id: 700 + i, first_name: `R${i}` } })),
    )
    const welcome = (reader: TestClient) => projectPublicContent(reader.doc).texts.welcome
    await waitFor(() => readers.every((reader) => welcome(reader) === 'Hello from A'), 'readers on B to see the text published on A')
    setSettingsText(settings.doc, 'welcome', 'Edited on A')
    await waitFor(() => readers.every((reader) => welcome(reader) === 'Edited on A'), 'readers on B to follow the edit')

    // Failed logins counted on either instance add up (the counts are keys in the cluster).
    const attempt = async (url: string, password: string) =>
      (await fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })).status
    expect([await attempt(a.url, 'wrong'), await attempt(a.url, 'wrong'), await attempt(b.url, 'wrong')]).toEqual([401, 401, 401])
    expect(await attempt(a.url, 'cluster')).toBe(429)
  })

  it('heals by anti-entropy after its sharded subscriber connections are killed mid-stream', async () => {
    const { a, b, prefix, email, token } = await startInstances()
    const name = `${await ownSpace(email)}/scenario/kill`
    const writers = ['a0', 'b0', 'b1'].map((id) => ({ id, client: client(id.startsWith('a') ? a.wsUrl : b.wsUrl, name, token) }))
    await Promise.all(writers.map((w) => synced(w.client)))
    const run = runWriters(writers, 120, 8)
    await waitFor(() => run.edits() >= 60, 'edits before the kill', 30_000)
    // A's subscriber connections on every master: A still publishes, but hears nothing until it recovers.
    let killed = 0
    for (const node of cluster.nodes) {
      const admin = new Redis({ host: '127.0.0.1', port: node.port })
      try {
        const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))
        for (const line of list.split('\n')) {
          const id = /\bid=(\d+)/.exec(line)?.[1]
          if (id && line.includes(`ssubscriber):${prefix}:${prefix}-a:`)) killed += Number(await admin.call('CLIENT', 'KILL', 'ID', id))
        }
      } finally {
        admin.disconnect()
      }
    }
    expect(killed).toBeGreaterThanOrEqual(1)
    const killedAt = Date.now()
    await run.done
    await allAcknowledged(writers.map((w) => w.client))
    await converged(
      writers.map((w) => w.client.doc),
      logOf,
      'replicas to agree after the kill',
      CONVERGE_MS - (Date.now() - killedAt),
    )
    expect(missingEdits(logOf(writers[0].client.doc), ['a0', 'b0', 'b1'], 120)).toEqual([])
    expect(fingerprint(await storedDoc(name), logOf)).toBe(fingerprint(writers[0].client.doc, logOf))
    expect(a.output.some((line) => line.includes('"event":"redis-up"'))).toBe(true)
  })

  it('says so when REDIS_URL names a cluster node without REDIS_CLUSTER=1', async () => {
    const server = await spawnServer({ REDIS_URL: `redis://127.0.0.1:${cluster.nodes[0].port}`, REDIS_PREFIX: uniquePrefix() })
    processes.push(server)
    await waitFor(() => server.output.some((line) => line.includes('"event":"redis-is-cluster"')), 'the misconfiguration to be logged', 5_000)
    expect(server.output.find((line) => line.includes('"event":"redis-is-cluster"'))).toContain('set REDIS_CLUSTER=1')
  })

  it('says so when REDIS_CLUSTER_NODES names a Redis that is not a cluster, and serves alone', async () => {
    const server = await spawnServer({ REDIS_CLUSTER_NODES: '127.0.0.1:6379', REDIS_PREFIX: uniquePrefix() })
    processes.push(server)
    await waitFor(() => server.output.some((line) => line.includes('"event":"redis-not-cluster"')), 'the misconfiguration to be logged', 5_000)
    expect(server.output.filter((line) => line.includes('"event":"redis-not-cluster"'))).toHaveLength(1)
    const { httpStatus, body } = await health(server.url)
    expect([httpStatus, body.status, body.checks.redis.detail]).toEqual([200, 'degraded', 'ERR This instance has cluster support disabled'])
  })

  it('loses nothing when the master of a document’s slot is SIGKILLed mid-stream, and agrees within 5 s of its recovery', async () => {
    const { a, b, prefix, email, token } = await startInstances()
    const name = `${await ownSpace(email)}/scenario/master-loss`
    const { index, redis } = await masterOf(`${prefix}:doc:${name}`)
    redis.disconnect()
    const ids = ['a0', 'a1', 'b0', 'b1']
    const writers = ids.map((id) => ({ id, client: client(id.startsWith('a') ? a.wsUrl : b.wsUrl, name, token) }))
    await Promise.all(writers.map((w) => synced(w.client)))
    const run = runWriters(writers, 250, 10)

    await waitFor(() => run.edits() >= 100, 'edits before the master is lost', 30_000)
    await cluster.kill(index)
    // Edits go on while the master is away: each instance saves its own clients' edits.
    await waitFor(async () => (await health(a.url)).body.status === 'degraded', '/health of A to say degraded', 10_000)
    await run.done
    await allAcknowledged(writers.map((w) => w.client))
    expect(fingerprint(writers[0].client.doc, logOf)).not.toBe(fingerprint(writers[2].client.doc, logOf))

    await cluster.restart(index)
    await cluster.waitUntilOk()
    const recoveredAt = Date.now()
    const reader = client(a.wsUrl, name, token)
    await converged([...writers.map((w) => w.client.doc), reader.doc], logOf, 'every replica to agree after the master recovered')
    expect(Date.now() - recoveredAt).toBeLessThanOrEqual(CONVERGE_MS)
    const stored = await storedDoc(name)
    for (const doc of [stored, ...writers.map((w) => w.client.doc)]) expect(missingEdits(logOf(doc), ids, 250)).toEqual([])
    expect(fingerprint(stored, logOf)).toBe(fingerprint(writers[0].client.doc, logOf))
    await waitFor(async () => (await health(a.url)).body.status === 'ok' && (await health(b.url)).body.status === 'ok', 'both instances to report ok again')
    // And live fan-out again, on the restarted master.
    writers[0].client.doc.getArray<string>('log').push(['after'])
    await waitFor(() => logOf(writers[3].client.doc).includes('after'), 'a live edit from A on B', 5_000)
  })
})

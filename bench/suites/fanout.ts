// Fan-out latency: 1 writer making 10 edits/s, 1,000 raw WebSocket readers on
// one document; last-reader latency per edit and server memory, for
//   (a) writer and readers on one instance, and
//   (b) writer on instance A, readers on instance B (through Redis),
//   (c) as (b), through a Redis Cluster of 3 masters (sharded pub/sub) that
//       the suite starts on loopback ports (no target: the issue sets none),
// botsync against vanilla Hocuspocus (+ @hocuspocus/extension-redis for b),
// all in the same run. botsync commits every edit to PostgreSQL before it is
// broadcast; vanilla keeps everything in memory.
//
// Environment: BENCH_FANOUT_READERS (1000), BENCH_FANOUT_EDITS (25 measured
// per round, after 10 warm-up edits), BENCH_FANOUT_ROUNDS (8: the four
// scenarios take turns this many times, in a rotating order, each round on a
// fresh document with freshly connected clients, and the edits of all rounds
// are pooled, so load from others on a shared machine hits every scenario
// alike), BENCH_FANOUT_CLUSTER (1; 0 leaves out (c)), BENCH_FANOUT_UNSLICED
// (1; 0 leaves out (a) with each broadcast in one loop, the before/after of
// sliced broadcasts), BENCH_FANOUT_SLICE_MS (the sliced botsync scenarios'
// BROADCAST_SLICE_MS; default: the server's), BENCH_SERVER_NODE_ARGS (node flags for every server,
// bench/lib/server-node-args.ts), DATABASE_URL, REDIS_URL.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '@botsync/persistence'
import * as Y from 'yjs'
import { EditTimeline, summarise } from '../fanout/edit-timeline.ts'
import { login } from '@botsync/testkit/login'
import { joinSpace } from '../lib/botsync-env.ts'
import { RawClient } from '@botsync/testkit/raw-client'
import { RedisCluster } from '@botsync/testkit/redis-cluster'
import { ServerProcess } from '@botsync/testkit/server-process'
import { memoryMb } from '../lib/process-memory.ts'
import { serverNodeArgs } from '../lib/server-node-args.ts'

const READERS = positiveInt('BENCH_FANOUT_READERS', 1000)
const EDITS = positiveInt('BENCH_FANOUT_EDITS', 25)
const ROUNDS = positiveInt('BENCH_FANOUT_ROUNDS', 8)
const CLUSTER = (process.env.BENCH_FANOUT_CLUSTER ?? '1') !== '0'
const UNSLICED = (process.env.BENCH_FANOUT_UNSLICED ?? '1') !== '0'
/** BROADCAST_SLICE_MS of the unsliced (a): longer than any broadcast, so each goes out in one loop, as before slicing. */
const WHOLE_BROADCAST_SLICE_MS = '60000'
/** BROADCAST_SLICE_MS of the other botsync scenarios, when set (to compare slice lengths); else the server's default. */
const SLICE_MS = process.env.BENCH_FANOUT_SLICE_MS
const NODE_ARGS = serverNodeArgs()
const WARMUP_EDITS = 10
const EDIT_INTERVAL_MS = 100 // 10 edits/s
const CONNECT_CONCURRENCY = 100
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const VANILLA_MAIN = new URL('../servers/vanilla-hocuspocus-redis.ts', import.meta.url).pathname

type ScenarioName = 'vanillaA' | 'vanillaB' | 'botsyncA' | 'botsyncAUnsliced' | 'botsyncB' | 'botsyncCluster'

const SCENARIOS: ScenarioName[] = [
  'vanillaA',
  'botsyncA',
  ...(UNSLICED ? (['botsyncAUnsliced'] as const) : []),
  'vanillaB',
  'botsyncB',
  ...(CLUSTER ? (['botsyncCluster'] as const) : []),
]

interface ScenarioRun {
  latencies: { last: number[]; first: number[] }
  incomplete: number
  writerSavedMs: number[]
  memory: Record<string, { rssMb: number; peakRssMb: number }>
}

export default async function run(): Promise<Record<string, unknown>> {
  const runId = randomBytes(4).toString('hex')
  const loadAtStart = loadavg()[0]
  const botsync = new BotsyncSetup(runId)
  const deployments: Deployment[] = []
  const runs: Record<ScenarioName, ScenarioRun[]> = { vanillaA: [], vanillaB: [], botsyncA: [], botsyncAUnsliced: [], botsyncB: [], botsyncCluster: [] }
  let cluster: RedisCluster | null = null
  try {
    if (CLUSTER) {
      progress('starting a Redis Cluster of 3 masters')
      cluster = await RedisCluster.start()
      botsync.clusterNodes = cluster.seedNodes
    }
    // Every deployment runs for the whole suite, so rounds only connect
    // clients; each scenario has servers of its own (memory stays separable).
    for (const name of SCENARIOS) {
      progress(`starting ${name}`)
      deployments.push(await deploy(name, botsync, runId))
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (let i = 0; i < deployments.length; i++) {
        const deployment = deployments[(i + round - 1) % deployments.length]
        progress(`round ${round}/${ROUNDS}: ${deployment.name}`)
        const space = `bench${runId}r${round}${deployment.name.toLowerCase()}`
        const document = `${space}/scenario/fanout`
        botsync.documents.push(document)
        // Roles are per space: the admin must be a member of this run's space.
        await joinSpace(DATABASE_URL, botsync.email, space)
        runs[deployment.name].push(await measure(deployment, document))
        // Let the servers finish closing the last round's sockets.
        await sleep(500)
      }
    }
    for (const deployment of deployments) {
      if (deployment.name.startsWith('botsync')) Object.assign(deployment, await commitLatency(deployment.servers[0]))
    }
  } finally {
    await Promise.all(deployments.flatMap((deployment) => deployment.servers.map((server) => server.stop())))
    await cluster?.stop()
    await botsync.cleanUp()
  }

  const result = Object.fromEntries(deployments.map((deployment) => [deployment.name, pool(runs[deployment.name], deployment)])) as Record<ScenarioName, ReturnType<typeof pool>>
  const c = result.botsyncCluster as ReturnType<typeof pool> | undefined
  const unsliced = result.botsyncAUnsliced as ReturnType<typeof pool> | undefined
  const a = result.botsyncA.lastReaderMs
  const b = result.botsyncB.lastReaderMs
  const vanillaA = result.vanillaA.lastReaderMs
  const vanillaB = result.vanillaB.lastReaderMs
  const saved = result.botsyncA.writerSavedMs
  const targets = {
    aP50: target('botsync (a) last-reader p50 ≤ 1.1 × vanilla (a) p50', a.p50, 1.1 * vanillaA.p50),
    // Issue #17: was ≤ 1.1 × vanilla, now 1.2 × with the "saved" target below.
    aP99: target('botsync (a) last-reader p99 ≤ 1.2 × vanilla (a) p99', a.p99, 1.2 * vanillaA.p99),
    aSavedP99: target('botsync (a) writer\'s "saved" p99 ≤ 10 ms', saved.p99, 10),
    bP50: target('botsync (b) last-reader p50 ≤ botsync (a) p50 + 2 ms', b.p50, a.p50 + 2),
  }
  return {
    setup: {
      readers: READERS,
      editsPerSecond: 1000 / EDIT_INTERVAL_MS,
      measuredEditsPerScenario: EDITS * ROUNDS,
      rounds: ROUNDS,
      readersAre: 'raw WebSocket clients in one process: token auth, sync step 1, timestamp incoming update frames',
      latency: 'from the writer sending an edit to the last (first) of the readers receiving it, ms',
      // Other work on the machine shows up as noise in every scenario; judge the figures with it.
      machine: { cpus: cpus().length, loadAverage1mAtStart: round(loadAtStart), loadAverage1mAtEnd: round(loadavg()[0]) },
    },
    scenarios: {
      'a: vanilla Hocuspocus, one instance': result.vanillaA,
      'a: botsync, one instance (REDIS_URL set; every edit committed to PostgreSQL before broadcast)': result.botsyncA,
      ...(unsliced ? { 'a: botsync as (a), each broadcast in one loop (BROADCAST_SLICE_MS longer than any; how it was before slicing)': unsliced } : {}),
      'b: vanilla Hocuspocus + @hocuspocus/extension-redis, writer on A, readers on B': result.vanillaB,
      'b: botsync lean Redis fan-out, writer on A, readers on B': result.botsyncB,
      ...(c ? { 'c: botsync through a Redis Cluster of 3 masters (SPUBLISH/SSUBSCRIBE), writer on A, readers on B': c } : {}),
    },
    targets,
    // Why botsync has its own fan-out: what crossing to another instance costs
    // with the library and with botsync's fan-out, same run, same rule. The
    // first reader isolates the hop from the 1,000-socket broadcast.
    crossInstanceCost: {
      extensionRedis: {
        lastReaderP50Ms: round(vanillaB.p50 - vanillaA.p50),
        firstReaderP50Ms: round(result.vanillaB.firstReaderMs.p50 - result.vanillaA.firstReaderMs.p50),
        meetsBTarget: vanillaB.p50 <= vanillaA.p50 + 2,
      },
      botsyncFanout: {
        lastReaderP50Ms: round(b.p50 - a.p50),
        firstReaderP50Ms: round(result.botsyncB.firstReaderMs.p50 - result.botsyncA.firstReaderMs.p50),
        meetsBTarget: b.p50 <= a.p50 + 2,
      },
      // Reported only: the issue sets no target for the cluster.
      ...(c
        ? {
            botsyncClusterFanout: {
              lastReaderP50Ms: round(c.lastReaderMs.p50 - a.p50),
              lastReaderP99Ms: round(c.lastReaderMs.p99 - a.p99),
              firstReaderP50Ms: round(c.firstReaderMs.p50 - result.botsyncA.firstReaderMs.p50),
              versusOneRedisFirstReaderP50Ms: round(c.firstReaderMs.p50 - result.botsyncB.firstReaderMs.p50),
            },
          }
        : {}),
    },
    allTargetsMet: Object.values(targets).every((t) => t.met),
  }
}

interface Deployment {
  name: ScenarioName
  /** [writer's instance, other instance]; vanilla (a) has one. */
  servers: ServerProcess[]
  writerUrl: string
  readerUrl: string
  token: string
  commitP50Ms?: number
  commitP99Ms?: number
}

async function deploy(name: ScenarioName, botsync: BotsyncSetup, runId: string): Promise<Deployment> {
  const servers: ServerProcess[] = []
  let token = 'vanilla-needs-no-token'
  if (name === 'vanillaA') {
    servers.push(await ServerProcess.spawn({ label: 'vanilla', entry: VANILLA_MAIN, keepLines: 30, nodeArgs: NODE_ARGS }))
  } else if (name === 'vanillaB') {
    const env = { REDIS_URL, REDIS_PREFIX: `bench-vanilla-${runId}` }
    servers.push(await ServerProcess.spawn({ label: 'vanilla-a', entry: VANILLA_MAIN, env, keepLines: 30, nodeArgs: NODE_ARGS }))
    servers.push(await ServerProcess.spawn({ label: 'vanilla-b', entry: VANILLA_MAIN, env, keepLines: 30, nodeArgs: NODE_ARGS }))
  } else {
    // Two instances in every botsync scenario: (a) pays for publishing to Redis too.
    const cluster = name === 'botsyncCluster'
    const sliceMs = name === 'botsyncAUnsliced' ? WHOLE_BROADCAST_SLICE_MS : SLICE_MS
    const env: Record<string, string> = sliceMs === undefined ? {} : { BROADCAST_SLICE_MS: sliceMs }
    servers.push(await botsync.spawn(`${name}-a`, `${runId}-${name}`, cluster, env))
    servers.push(await botsync.spawn(`${name}-b`, `${runId}-${name}`, cluster, env))
    token = await botsync.login(servers[0])
  }
  const path = name.startsWith('botsync') ? '/collab' : '/'
  const readerServer = servers.length > 1 && name !== 'botsyncA' && name !== 'botsyncAUnsliced' ? servers[1] : servers[0]
  return {
    name,
    servers,
    writerUrl: `ws://127.0.0.1:${servers[0].port}${path}`,
    readerUrl: `ws://127.0.0.1:${readerServer.port}${path}`,
    token,
  }
}

/** The instance's own commit latency over its last 1,000 appends (its /health). */
async function commitLatency(server: ServerProcess): Promise<{ commitP50Ms: number; commitP99Ms: number }> {
  const health = (await (await fetch(`${server.url}/health`)).json()) as { appendLatencyMs: { p50: number; p99: number } }
  return { commitP50Ms: round(health.appendLatencyMs.p50), commitP99Ms: round(health.appendLatencyMs.p99) }
}

async function measure({ writerUrl, readerUrl, token, servers }: Deployment, document: string): Promise<ScenarioRun> {
  const timeline = new EditTimeline(READERS)
  const readers: RawClient[] = []
  let writer: RawClient | null = null
  try {
    for (let i = 0; i < READERS; i += CONNECT_CONCURRENCY) {
      const batch = await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, READERS - i) }, () => RawClient.connect(readerUrl, document, token)))
      for (const reader of batch) reader.onUpdate = (update, at) => timeline.received(update, at)
      readers.push(...batch)
    }
    writer = await RawClient.connect(writerUrl, document, token)
    const doc = new Y.Doc()
    const map = doc.getMap<number>('bench')
    const sentAt: number[] = []
    const writerSavedMs: number[] = []
    writer.onSaved = (at) => {
      const sent = sentAt.shift()
      if (sent !== undefined) writerSavedMs.push(at - sent)
    }
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'bench') writer!.sendUpdate(update)
    })

    const start = performance.now()
    for (let i = 0; i < WARMUP_EDITS + EDITS; i++) {
      const wait = start + i * EDIT_INTERVAL_MS - performance.now()
      if (wait > 0) await sleep(wait)
      const now = performance.now()
      timeline.sent(Y.getState(doc.store, doc.clientID), now)
      sentAt.push(now)
      doc.transact(() => map.set('n', i), 'bench')
    }
    const deadline = performance.now() + 5_000
    while (!timeline.complete() && performance.now() < deadline) await sleep(20)

    const { last, first, incomplete } = timeline.latencies(WARMUP_EDITS)
    // Measured while the readers are still connected.
    const memory = Object.fromEntries(servers.map((server, i) => [`instance${'AB'[i]}`, memoryMb(server.child.pid!)]))
    return { latencies: { last, first }, incomplete, writerSavedMs: writerSavedMs.slice(WARMUP_EDITS), memory }
  } finally {
    writer?.close()
    for (const reader of readers) reader.close()
  }
}

function pool(runs: ScenarioRun[], deployment: Deployment) {
  const last = runs.flatMap((run) => run.latencies.last)
  const first = runs.flatMap((run) => run.latencies.first)
  const memory: Record<string, { rssMb: number; peakRssMb: number }> = {}
  for (const run of runs) {
    for (const [instance, value] of Object.entries(run.memory)) {
      const seen = memory[instance]
      // The largest over rounds.
      memory[instance] = seen ? { rssMb: Math.max(seen.rssMb, value.rssMb), peakRssMb: Math.max(seen.peakRssMb, value.peakRssMb) } : value
    }
  }
  return {
    lastReaderMs: summarise(last),
    firstReaderMs: summarise(first),
    perRoundLastReaderP50Ms: runs.map((run) => summarise(run.latencies.last).p50),
    incompleteEdits: runs.reduce((sum, run) => sum + run.incomplete, 0),
    writerSavedMs: summarise(runs.flatMap((run) => run.writerSavedMs)),
    ...(deployment.commitP50Ms !== undefined ? { serverCommitP50Ms: deployment.commitP50Ms, serverCommitP99Ms: deployment.commitP99Ms } : {}),
    serverMemoryMb: memory,
  }
}

/** botsync processes for the run: shared secrets, one owner, cleaned out of the database afterwards. */
class BotsyncSetup {
  readonly documents: string[] = []
  private readonly runId: string
  readonly email: string
  private readonly password = randomBytes(12).toString('base64url')
  private readonly secrets = { JWT_SECRET: randomBytes(24).toString('base64url'), BOT_SERVICE_TOKEN: randomBytes(24).toString('base64url') }
  private readonly dataDirs: string[] = []
  /** REDIS_CLUSTER_NODES of the suite's own cluster, for scenario (c). */
  clusterNodes = ''

  constructor(runId: string) {
    this.runId = runId
    this.email = `bench-${runId}@bench.local`
  }

  async spawn(label: string, tag: string, cluster = false, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
    const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-'))
    this.dataDirs.push(dataDir)
    return ServerProcess.spawn({
      label,
      keepLines: 30,
      env: {
        ...this.secrets,
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL,
        DATA_DIR: dataDir,
        ADMIN_EMAIL: this.email,
        ADMIN_PASSWORD: this.password,
        SEED_DEMO: 'false',
        LOG_LEVEL: 'info',
        ...(cluster ? { REDIS_CLUSTER_NODES: this.clusterNodes } : { REDIS_URL }),
        REDIS_PREFIX: `bench-botsync-${tag}`,
        INSTANCE_ID: `bench-${tag}-${label}`,
        // 1,000 readers from one address (loopback).
        MAX_CONNECTIONS_PER_IP: '1000000',
        ...extraEnv,
      },
      nodeArgs: NODE_ARGS,
    })
  }

  login(server: ServerProcess): Promise<string> {
    return login(server.url, this.email, this.password)
  }

  async cleanUp(): Promise<void> {
    for (const dir of this.dataDirs) rmSync(dir, { recursive: true, force: true })
    const db = await openDatabase({ databaseUrl: DATABASE_URL })
    try {
      await db.query('DELETE FROM document_updates WHERE name = ANY($1::text[])', [this.documents])
      await db.query('DELETE FROM documents WHERE name = ANY($1::text[])', [this.documents])
      await db.query('DELETE FROM users WHERE email = $1', [this.email])
    } finally {
      await db.close()
    }
  }
}

function target(description: string, measured: number, limit: number) {
  return { target: description, measuredMs: round(measured), limitMs: round(limit), met: measured <= limit }
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}

function positiveInt(name: string, fallback: number): number {
  const value = process.env[name]
  if (value === undefined || value === '') return fallback
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer, got "${value}"`)
  return parsed
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function progress(message: string): void {
  process.stderr.write(`[fanout] ${message}\n`)
}

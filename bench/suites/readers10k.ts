// 10,000 idle Mini App readers on one botsync instance (issue #17): raw
// protocol readers on bare TCP sockets (testkit BareReader: Telegram-signed
// initData, sync step 1, Pong; a ws client cost as much CPU per connection
// as the server) on `<space>/public` through the reader gateway (/readers),
// spread over FLEET_THREADS worker threads of the bench process (bench/lib/
// reader-fleet.ts), so that receiving 10,000 frames is not queued behind the
// bench's own thread. "Connected" means authenticated and synced: the
// server's sync step 2 has arrived.
//
// Three server processes, each started fresh (npm start's default V8 flags
// and connection limits; only the per-address limit is lifted, as every
// bench client is on 127.0.0.1):
// - Idle readers (server A): one reader, then HALF readers, then HALF more,
//   VmRSS settled at each step, with what /metrics says it is made of (V8's
//   young and old generation): the growth from 5,000 to 10,000 readers over
//   5,000 (the first 5,000 also pay one-time costs: code, malloc arenas) on
//   a fresh server is `rssPerIdleReaderBytes.cold`. With all 10,000 connected:
//   - fan-out: an admin edits the public welcome text (a real provider on
//     `<space>/settings`); the server commits it, re-projects and commits the
//     public document and broadcasts it. Per reader, from the admin's local
//     edit to that reader's receipt, over EDITS paced edits. This includes the
//     server's commits, its broadcast loop and the client threads' receiving
//     (they share the machine's 2 cores with the server).
//   - first sync of a fresh reader: PROBES times, one at a time, a new reader
//     (a ws RawClient in the bench's main thread, as a page's WebSocket) from
//     `new WebSocket` to its sync step 2.
// - Reconnect burst (server B): all 10,000 readers open at once against a
//   freshly started instance, as after a restart; `connectAllMs` is from the
//   first handshake to the last reader synced, each fleet thread keeping
//   WINDOW handshakes in flight (FLEET_THREADS × WINDOW below the server's
//   default MAX_PENDING_CONNECTIONS). Once they have all left, the memory
//   ladder again on the same server: `rssPerIdleReaderBytes.warm`, the
//   target's figure. Why warm: V8 doubles the young generation (semi-spaces
//   16 → 32 → 64 MB, its cap here) each time the bytes surviving scavenges
//   since the last doubling exceed its capacity (cumulative, whatever they
//   are), and shrinks it (here to 2 × 1 MB) only at a full GC while
//   allocating little (the memory reducer, about a minute after the server
//   fell idle). On a fresh server the last doubling (2 × 32 → 2 × 64 MB, 64
//   MB of RSS once its pages are touched) lands wherever the survivors of
//   ~5,000 handshakes add up to 32 MB, often between the 5,000 and 10,000
//   marks; with 10,000 readers left idle it also comes within a minute from
//   the heartbeats' survivors alone (--trace-gc-nvp). Every server that has
//   had one busy stretch has paid it, so the cold figure is mostly that one
//   step spread over 5,000 readers, and the warm one is what a reader adds
//   (a heap snapshot diff, 5,000 → 10,000: 3.45 KB of live heap each).
// - The memory ladder again (server C) with the young generation capped at
//   2 × 16 MB (SMALL_YOUNG_GENERATION): the cold ladder without that step.
//
// Each figure carries os.loadavg() when it was taken: the machine may be
// shared, and latencies move with load (memory does not).
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { docName, setSettingsText } from '@botsync/shared-docs'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { signInitData } from '@botsync/testkit/init-data'
import { login } from '@botsync/testkit/login'
import { RawClient } from '@botsync/testkit/raw-client'
import { ServerProcess } from '@botsync/testkit/server-process'
import { botsyncEnv } from '../lib/botsync-env.ts'
import { connectEditor, type BenchEditor } from '../lib/editor.ts'
import { onInterrupt } from '../lib/interrupt-cleanup.ts'
import { latencySummary, round2 } from '../lib/percentiles.ts'
import { ownCpuSeconds, processCpuSeconds } from '../lib/process-cpu.ts'
import { settledRss } from '../lib/process-memory.ts'
import { scrapeMetrics } from '../lib/server-metrics.ts'
import { seedPublicSpace } from '../lib/public-seed.ts'
import { ReaderFleet } from '../lib/reader-fleet.ts'
import { wallClock } from '../lib/wall-clock.ts'
import { ScratchSchema } from '../lib/scratch-schema.ts'
import { serverNodeArgs } from '../lib/server-node-args.ts'

const READERS = 10_000
const HALF = READERS / 2
const FLEET_THREADS = 4
const WINDOW = 100
const EDITS = 20
const PACING_MS = 300
const PROBES = 40
/** Ladders tried on the warmed server before its figure is given up on (see measureWarmMemory). */
const WARM_ATTEMPTS = 3
/**
 * V8 sizes the young generation from the heap limit (here 2 × 32 MB at
 * start, growing to 2 × 64 MB under a burst of connections); 16 MB
 * semi-spaces were V8's default cap before.
 */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=16'
const TARGETS = { rssPerIdleReaderBytes: 6 * 1024, connectAllMs: 5000, fanOutP99Ms: 250, freshReaderSyncP99Ms: 50 }
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const TELEGRAM_TOKEN = '123456:BENCH-readers10k'
const PROVIDER_VERSION = (JSON.parse(readFileSync(new URL('../../node_modules/@hocuspocus/provider/package.json', import.meta.url), 'utf8')) as { version: string }).version
/** Sockets the bench process needs open at once besides the readers (editor, database, workers' pipes, probes…). */
const SPARE_FILES = 512

export default async function run(): Promise<Record<string, unknown>> {
  requireOpenFiles(READERS + SPARE_FILES)
  const schema = await ScratchSchema.create(DATABASE_URL)
  const space = `bench${randomUUID().replaceAll('-', '').slice(0, 10)}`
  await seedPublicSpace(schema.url, space)
  const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  const fleet = new ReaderFleet({
    document: docName.public(space),
    telegramToken: TELEGRAM_TOKEN,
    providerVersion: PROVIDER_VERSION,
    threads: FLEET_THREADS,
    firstUserId: 1_000_000,
  })
  try {
    const idle = await withServer(schema.url, space, api, (server) => measureIdle(server, fleet, space))
    const { burst, warm } = await withServer(schema.url, space, api, async (server) => ({
      burst: await measureBurst(server, fleet),
      warm: await measureWarmMemory(server, fleet, space),
    }))
    const smallYoungGeneration = await withServer(schema.url, space, api, (server) => measureMemoryOnly(server, fleet, space), SMALL_YOUNG_GENERATION)
    const figures = {
      rssPerIdleReaderBytes: warm.rssPerIdleReaderBytes,
      connectAllMs: burst.connectAllMs,
      fanOutP99Ms: idle.fanOutMs.p99,
      freshReaderSyncP99Ms: idle.freshReaderSyncMs.p99,
    }
    return {
      readers: READERS,
      fleetThreads: FLEET_THREADS,
      // The target's figure (warm, server B) beside the fresh server's (cold, server A's `memory`): see the header.
      rssPerIdleReaderBytes: { warm: warm.rssPerIdleReaderBytes, cold: idle.memory.rssPerIdleReaderBytes },
      ...idle,
      burst,
      warmMemory: warm,
      // The cold ladder with the young generation capped (not a default): the cold figure without the young generation's step.
      smallYoungGeneration: { nodeOptions: SMALL_YOUNG_GENERATION, ...smallYoungGeneration },
      targets: TARGETS,
      met: {
        ...Object.fromEntries(Object.entries(TARGETS).map(([name, target]) => [name, figures[name as keyof typeof figures] <= target])),
        // A warm ladder during which a generation shrank or grew is not the figure (see measureWarmMemory).
        rssPerIdleReaderBytes: warm.valid && figures.rssPerIdleReaderBytes <= TARGETS.rssPerIdleReaderBytes,
      },
    }
  } finally {
    await fleet.destroy()
    await api.stop()
    await schema.drop()
  }
}

/** The soft limit on open files applies to this process's 10,000 client sockets (and, inherited, to the server's). */
function requireOpenFiles(needed: number): void {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
  const limit = !match || match[1] === 'unlimited' ? Infinity : Number(match[1])
  if (limit < needed) {
    throw new Error(
      `readers10k needs ${needed} open files per process (10,000 reader sockets on each side) but the limit is ${limit}: run it after \`ulimit -n ${needed}\` (raise the hard limit first if needed)`,
    )
  }
}

async function withServer<T>(databaseUrl: string, space: string, api: FakeBotApi, use: (server: Server) => Promise<T>, nodeOptions = ''): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-readers10k-'))
  const { env, admin } = botsyncEnv({ databaseUrl, dataDir })
  // /metrics, to read what the server's memory is made of and how long its broadcasts take.
  const metricsToken = randomUUID()
  let server: ServerProcess | undefined
  try {
    server = await ServerProcess.spawn({
      label: 'botsync',
      env: { ...env, BOT_SPACE: space, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot, METRICS_TOKEN: metricsToken },
      nodeArgs: serverNodeArgs(...nodeOptions.split(' ').filter(Boolean)),
      keepLines: 200,
      registerKill: onInterrupt,
    })
    const process = server
    const metrics = () => scrapeMetrics(process.url, metricsToken)
    return await use({
      process: server,
      admin,
      metrics,
      memory: async () => memoryOf(await settledRss(process.child.pid!, 20_000), await metrics()),
      readersUrl: `ws://127.0.0.1:${server.port}/readers`,
      collabUrl: `ws://127.0.0.1:${server.port}/collab`,
    })
  } finally {
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

interface Server {
  process: ServerProcess
  metrics(): Promise<Map<string, number>>
  /** VmRSS once settled, and what the server says it is made of. */
  memory(): Promise<Memory>
  admin: { email: string; password: string }
  readersUrl: string
  collabUrl: string
}

interface Memory {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  /** V8's young generation (semi-spaces) and old generation, committed. */
  newSpace: number
  oldSpace: number
  readersOpen: number
}

function memoryOf(rss: number, metrics: Map<string, number>): Memory {
  return {
    rss,
    heapUsed: metrics.get('nodejs_heap_size_used_bytes') ?? NaN,
    heapTotal: metrics.get('nodejs_heap_size_total_bytes') ?? NaN,
    external: metrics.get('nodejs_external_memory_bytes') ?? NaN,
    newSpace: metrics.get('nodejs_heap_space_size_total_bytes{space="new"}') ?? NaN,
    oldSpace: metrics.get('nodejs_heap_space_size_total_bytes{space="old"}') ?? NaN,
    readersOpen: metrics.get('botsync_readers_open') ?? NaN,
  }
}

const load = () => loadavg().map((value) => round2(value))

/**
 * Opens `count` more fleet readers; throws if any did not connect (a figure
 * over fewer readers would not be the figure). With the wall time (first
 * handshake to last reader synced), the CPU time the server and the bench
 * process (its reader threads) spent meanwhile: on a 2-core machine both
 * compete for the same cores.
 */
async function openReaders(fleet: ReaderFleet, server: Server, count: number) {
  const pid = server.process.child.pid!
  const serverCpu = processCpuSeconds(pid) ?? NaN
  const clientCpu = ownCpuSeconds()
  const result = await fleet.open(server.readersUrl, count, WINDOW)
  if (result.failed > 0) throw new Error(`${result.failed} of ${count} readers did not connect: ${result.errors.join('; ')}`)
  return {
    ms: round2(result.lastAt - result.firstAt),
    serverCpuMs: Math.round(((processCpuSeconds(pid) ?? NaN) - serverCpu) * 1000),
    clientCpuMs: Math.round((ownCpuSeconds() - clientCpu) * 1000),
  }
}

/** With one reader already connected: HALF more, then HALF more, the server's memory settled at each step. */
async function measureMemory(server: Server, fleet: ReaderFleet) {
  const oneReader = await server.memory()
  const firstHalf = await openReaders(fleet, server, HALF)
  const half = await server.memory()
  const secondHalf = await openReaders(fleet, server, HALF)
  const all = await server.memory()
  if (all.readersOpen !== READERS + 1) throw new Error(`the server counts ${all.readersOpen} readers, not ${READERS + 1}`)
  return {
    oneReader,
    half,
    all,
    rssPerIdleReaderBytes: Math.round((all.rss - half.rss) / HALF),
    // The growth without the change in V8's young generation's committed size. Its pages become resident only as they are
    // first used, so a doubling just before the 5,000 mark still shows up here.
    rssPerIdleReaderWithoutNewSpaceBytes: Math.round((all.rss - half.rss - (all.newSpace - half.newSpace)) / HALF),
    rssPerReaderFirstHalfBytes: Math.round((half.rss - oneReader.rss) / HALF),
    // The old generation's committed growth per reader, 1 → 5,000 and 5,000 → 10,000.
    oldSpacePerReaderBytes: [Math.round((half.oldSpace - oneReader.oldSpace) / HALF), Math.round((all.oldSpace - half.oldSpace) / HALF)],
    connectHalf: { first: firstHalf, second: secondHalf },
    loadavg: load(),
  }
}

/** The memory ladder alone, on a server started with other V8 flags. */
async function measureMemoryOnly(server: Server, fleet: ReaderFleet, space: string) {
  const first = await RawClient.connect(server.readersUrl, docName.public(space), token(0), { providerVersion: PROVIDER_VERSION })
  try {
    return await measureMemory(server, fleet)
  } finally {
    first.close()
    await fleet.closeReaders()
  }
}

async function measureIdle(server: Server, fleet: ReaderFleet, space: string) {
  const first = await RawClient.connect(server.readersUrl, docName.public(space), token(0), { providerVersion: PROVIDER_VERSION })
  let editor: BenchEditor | undefined
  try {
    const memory = await measureMemory(server, fleet)
    editor = await connectEditor(server.collabUrl, docName.settings(space), await login(server.process.url, server.admin.email, server.admin.password))
    const fanOutMs = await measureFanOut(fleet, editor, server)
    const freshReaderSyncMs = await measureFreshReaders(server.readersUrl, space)
    return { memory, fanOutMs, freshReaderSyncMs }
  } finally {
    editor?.destroy()
    first.close()
    await fleet.closeReaders()
  }
}

async function measureFanOut(fleet: ReaderFleet, editor: BenchEditor, server: Server) {
  const samples: number[] = []
  const firstPerEdit: number[] = []
  const lastPerEdit: number[] = []
  const before = await server.metrics()
  const pid = server.process.child.pid!
  const cpuBefore = processCpuSeconds(pid) ?? NaN
  let missed = 0
  for (let edit = 0; edit < EDITS; edit++) {
    await fleet.arm()
    const editedAt = wallClock()
    setSettingsText(editor.doc, 'welcome', `Welcome, readers! Edit ${edit}.`)
    const received = await fleet.collect(10_000)
    missed += received.missed
    for (const at of received.arrivals) samples.push(at - editedAt)
    firstPerEdit.push(received.arrivals.reduce((first, at) => Math.min(first, at), Infinity) - editedAt)
    lastPerEdit.push(received.arrivals.reduce((last, at) => Math.max(last, at), -Infinity) - editedAt)
    await new Promise((resolve) => setTimeout(resolve, PACING_MS))
  }
  const serverCpuMsPerEdit = round2((((processCpuSeconds(pid) ?? NaN) - cpuBefore) * 1000) / EDITS)
  const after = await server.metrics()
  const broadcast = (name: string) =>
    (after.get(`botsync_reader_broadcast_duration_seconds_${name}`) ?? NaN) - (before.get(`botsync_reader_broadcast_duration_seconds_${name}`) ?? 0)
  return {
    ...latencySummary(samples),
    firstReaderPerEdit: latencySummary(firstPerEdit),
    lastReaderPerEdit: latencySummary(lastPerEdit),
    // The server's loop of 10,000 socket writes per broadcast, from its own histogram (mean over the edits).
    serverBroadcastMeanMs: round2((broadcast('sum') * 1000) / broadcast('count')),
    broadcasts: broadcast('count'),
    // The server's CPU time over the edits (commits, projection, broadcast, and the heartbeat meanwhile) per edit: what the wall times would be on idle cores.
    serverCpuMsPerEdit,
    max: round2(samples.reduce((max, ms) => Math.max(max, ms), -Infinity)),
    edits: EDITS,
    missed,
    loadavg: load(),
  }
}

/** A new reader's connect → synced, one at a time, with everyone else connected and idle. */
async function measureFreshReaders(url: string, space: string) {
  const samples: number[] = []
  for (let probe = 0; probe < PROBES; probe++) {
    const started = performance.now()
    const client = await RawClient.connect(url, docName.public(space), token(1 + probe), { providerVersion: PROVIDER_VERSION })
    samples.push(performance.now() - started)
    client.close()
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return { ...latencySummary(samples), loadavg: load() }
}

async function measureBurst(server: Server, fleet: ReaderFleet) {
  try {
    const connect = await openReaders(fleet, server, READERS)
    return { connectAllMs: connect.ms, serverCpuMs: connect.serverCpuMs, clientCpuMs: connect.clientCpuMs, window: FLEET_THREADS * WINDOW, loadavg: load() }
  } finally {
    await fleet.closeReaders()
  }
}

/**
 * The memory ladder on server B once its burst of 10,000 has come and gone:
 * a server whose young generation has already grown to its cap, as any
 * server's has after its first busy stretch (see the header). With only a
 * reader or two left, V8 may shrink that generation at its next full GC
 * (it allocates little then; seen once in 9 runs), and it grows back during
 * the ladder: such a ladder measures the cold step again. A full GC during
 * the ladder can also hand new readers old-generation space the burst's
 * left (resident already, so no RSS growth: 1.7 KB in a forced second
 * attempt, where the old generation shrank 81 → 62 MB). Either way the
 * ladder is not the figure (`valid` false) and is run again, at most
 * WARM_ATTEMPTS times, the attempts reported. Reuse without a visible
 * shrink remains possible: a half whose oldSpacePerReaderBytes is below the
 * live heap per reader (~3.4 KB) has reused, and its RSS figure is low.
 */
async function measureWarmMemory(server: Server, fleet: ReaderFleet, space: string) {
  for (let attempt = 1; ; attempt++) {
    await waitForReaders(server, 0)
    const afterBurst = await server.memory()
    const ladder = await measureMemoryOnly(server, fleet, space)
    const youngGenerations = [afterBurst, ladder.oneReader, ladder.half, ladder.all].map((memory) => memory.newSpace)
    const youngGenerationSteady = youngGenerations.every((size) => size === youngGenerations[0])
    const oldGenerations = [afterBurst, ladder.oneReader, ladder.half, ladder.all].map((memory) => memory.oldSpace)
    const oldGenerationNeverShrank = oldGenerations.every((size, i) => i === 0 || size >= oldGenerations[i - 1])
    const valid = youngGenerationSteady && oldGenerationNeverShrank
    if (valid || attempt === WARM_ATTEMPTS) return { afterBurst, ...ladder, youngGenerationSteady, oldGenerationNeverShrank, valid, attempts: attempt }
  }
}

/** Until the server counts `count` readers open (closed sockets are forgotten when their close reaches it). */
async function waitForReaders(server: Server, count: number): Promise<void> {
  const deadline = Date.now() + 30_000
  while ((await server.metrics()).get('botsync_readers_open') !== count) {
    if (Date.now() > deadline) throw new Error(`the server still counts readers other than ${count} after 30 s`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** The main thread's readers (the first one, the probes): user ids below the fleet's. */
const token = (i: number) => signInitData(TELEGRAM_TOKEN, { user: { id: 100_000 + i, first_name: `Reader ${i}` } })

// 10,000 idle Mini App readers on one botsync instance (issue #17): raw
// protocol readers (testkit RawClient: Telegram-signed initData, sync step 1,
// Pong) on `<space>/public` through the reader gateway (/readers), spread
// over FLEET_THREADS worker threads of the bench process (bench/lib/
// reader-fleet.ts), so that receiving 10,000 frames is not queued behind the
// bench's own thread. "Connected" means authenticated and synced: the
// server's sync step 2 has arrived.
//
// Two server processes, each started fresh (npm start's default V8 flags and
// connection limits; only the per-address limit is lifted, as every bench
// client is on 127.0.0.1):
// - Idle readers (server A): one reader, then HALF readers, then HALF more,
//   VmRSS settled at each step. `rssPerIdleReaderBytes` is the growth from
//   5,000 to 10,000 readers over 5,000: what each further idle reader costs
//   (the first 5,000 also pay one-time costs: V8's young generation growing,
//   code, malloc arenas). With all 10,000 connected:
//   - fan-out: an admin edits the public welcome text (a real provider on
//     `<space>/settings`); the server commits it, re-projects and commits the
//     public document and broadcasts it. Per reader, from the admin's local
//     edit to that reader's receipt, over EDITS paced edits. This includes the
//     server's commits, its broadcast loop and the client threads' receiving
//     (they share the machine's 2 cores with the server).
//   - first sync of a fresh reader: PROBES times, one at a time, a new reader
//     (in the bench's main thread) from `new WebSocket` to its sync step 2.
// - Reconnect burst (server B): all 10,000 readers open at once against a
//   freshly started instance, as after a restart; `connectAllMs` is from the
//   first handshake to the last reader synced, each fleet thread keeping
//   WINDOW handshakes in flight (FLEET_THREADS × WINDOW below the server's
//   default MAX_PENDING_CONNECTIONS).
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
import { settledRss } from '../lib/process-memory.ts'
import { seedPublicSpace } from '../lib/public-seed.ts'
import { absoluteNow, ReaderFleet } from '../lib/reader-fleet.ts'
import { ScratchSchema } from '../lib/scratch-schema.ts'

const READERS = 10_000
const HALF = READERS / 2
const FLEET_THREADS = 4
const WINDOW = 100
const EDITS = 20
const PACING_MS = 300
const PROBES = 40
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
  const fleet = new ReaderFleet({ document: docName.public(space), telegramToken: TELEGRAM_TOKEN, providerVersion: PROVIDER_VERSION, threads: FLEET_THREADS, firstUserId: 1_000_000 })
  try {
    const idle = await withServer(schema.url, space, api, (server) => measureIdle(server, fleet, space))
    const burst = await withServer(schema.url, space, api, (server) => measureBurst(server, fleet))
    const figures = {
      rssPerIdleReaderBytes: idle.memory.rssPerIdleReaderBytes,
      connectAllMs: burst.connectAllMs,
      fanOutP99Ms: idle.fanOutMs.p99,
      freshReaderSyncP99Ms: idle.freshReaderSyncMs.p99,
    }
    return {
      readers: READERS,
      fleetThreads: FLEET_THREADS,
      ...idle,
      burst,
      targets: TARGETS,
      met: Object.fromEntries(Object.entries(TARGETS).map(([name, target]) => [name, figures[name as keyof typeof figures] <= target])),
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
    throw new Error(`readers10k needs ${needed} open files per process (10,000 reader sockets on each side) but the limit is ${limit}: run it after \`ulimit -n ${needed}\` (raise the hard limit first if needed)`)
  }
}

async function withServer<T>(databaseUrl: string, space: string, api: FakeBotApi, use: (server: Server) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-readers10k-'))
  const { env, admin } = botsyncEnv({ databaseUrl, dataDir })
  let server: ServerProcess | undefined
  try {
    server = await ServerProcess.spawn({
      label: 'botsync',
      env: { ...env, BOT_SPACE: space, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot },
      keepLines: 200,
      registerKill: onInterrupt,
    })
    return await use({ process: server, admin, readersUrl: `ws://127.0.0.1:${server.port}/readers`, collabUrl: `ws://127.0.0.1:${server.port}/collab` })
  } finally {
    await server?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

interface Server {
  process: ServerProcess
  admin: { email: string; password: string }
  readersUrl: string
  collabUrl: string
}

const load = () => loadavg().map((value) => round2(value))

/** Opens `count` more fleet readers; throws if any did not connect (a figure over fewer readers would not be the figure). */
async function openReaders(fleet: ReaderFleet, url: string, count: number): Promise<number> {
  const started = absoluteNow()
  const result = await fleet.open(url, count, WINDOW)
  if (result.failed > 0) throw new Error(`${result.failed} of ${count} readers did not connect: ${result.errors.join('; ')}`)
  return round2(result.lastAt - started)
}

async function measureIdle(server: Server, fleet: ReaderFleet, space: string) {
  const pid = server.process.child.pid!
  const first = await RawClient.connect(server.readersUrl, docName.public(space), token(0), { providerVersion: PROVIDER_VERSION })
  let editor: BenchEditor | undefined
  try {
    const oneReader = await settledRss(pid, 20_000)
    const firstHalfMs = await openReaders(fleet, server.readersUrl, HALF)
    const half = await settledRss(pid, 20_000)
    const secondHalfMs = await openReaders(fleet, server.readersUrl, HALF)
    const all = await settledRss(pid, 20_000)
    const memory = {
      rss: { oneReader, half, all },
      rssPerIdleReaderBytes: Math.round((all - half) / HALF),
      rssPerReaderFirstHalfBytes: Math.round((half - oneReader) / HALF),
      connectHalfMs: { first: firstHalfMs, second: secondHalfMs },
      loadavg: load(),
    }
    editor = await connectEditor(server.collabUrl, docName.settings(space), await login(server.process.url, server.admin.email, server.admin.password))
    const fanOutMs = await measureFanOut(fleet, editor)
    const freshReaderSyncMs = await measureFreshReaders(server.readersUrl, space)
    return { memory, fanOutMs, freshReaderSyncMs }
  } finally {
    editor?.destroy()
    first.close()
    await fleet.closeReaders()
  }
}

async function measureFanOut(fleet: ReaderFleet, editor: BenchEditor) {
  const samples: number[] = []
  const lastPerEdit: number[] = []
  let missed = 0
  for (let edit = 0; edit < EDITS; edit++) {
    await fleet.arm()
    const editedAt = absoluteNow()
    setSettingsText(editor.doc, 'welcome', `Welcome, readers! Edit ${edit}.`)
    const received = await fleet.collect(10_000)
    missed += received.missed
    for (const at of received.arrivals) samples.push(at - editedAt)
    lastPerEdit.push(received.arrivals.reduce((last, at) => Math.max(last, at), -Infinity) - editedAt)
    await new Promise((resolve) => setTimeout(resolve, PACING_MS))
  }
  return { ...latencySummary(samples), lastReaderPerEdit: latencySummary(lastPerEdit), max: round2(samples.reduce((max, ms) => Math.max(max, ms), -Infinity)), edits: EDITS, missed, loadavg: load() }
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
    const connectAllMs = await openReaders(fleet, server.readersUrl, READERS)
    return { connectAllMs, window: FLEET_THREADS * WINDOW, loadavg: load() }
  } finally {
    await fleet.closeReaders()
  }
}

/** The main thread's readers (the first one, the probes): user ids below the fleet's. */
const token = (i: number) => signInitData(TELEGRAM_TOKEN, { user: { id: 100_000 + i, first_name: `Reader ${i}` } })

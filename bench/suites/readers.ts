// Mini App readers at scale: 1,000 reader connections on one botsync
// instance, each a raw WebSocket speaking the Hocuspocus protocol (auth frame
// with Telegram-signed initData, sync step 1) on `<space>/public`, through
// the reader gateway (/readers) as the Mini App page connects.
//
// - Memory: the server process's VmRSS (/proc/<pid>/status), read once it
//   has settled, at four points, all readers idle: 1 reader; WARM_READERS
//   more; READERS more; READERS more again. Each step's growth divided by
//   its readers is reported:
//   - `rssPerReaderFromColdBytes` (1 → 2,201): includes one-time costs that
//     are not per reader: the optimizing compiler's code and zones paging in,
//     malloc arenas for GC threads (~12-15 MB even for bare sockets here).
//   - `rssPerReaderFirstThousandBytes` (201 → 1,201): still includes V8's
//     young generation growing towards its cap (2 × 16 MB semi-spaces) under
//     the burst of connections; measured in-process, that growth was ~6 MB
//     of this step and ~0 of the next.
//   - `rssPerIdleReaderBytes` (1,201 → 2,201): what each further idle reader
//     costs once those bounded costs are paid — the figure that scales with
//     readers, and the one held to the target.
//   The same measurement on vanilla Hocuspocus (bench/servers/vanilla-
//   hocuspocus.ts, no auth, one document) is the baseline. RSS includes
//   whatever the heap grew by and has not returned to the OS; it is what a
//   host pays. Default V8 flags on both, as `npm start` runs.
// - Fan-out, with exactly READERS readers (the others closed first): an
//   admin edits the public welcome text (a real provider on
//   `<space>/settings`); the server commits it, re-projects the public
//   document, commits that, and broadcasts it. Measured per reader: from the
//   admin's local edit to that reader's receipt of the update, over EDITS
//   edits (paced, one at a time). Vanilla gets the same edits straight on the
//   readers' document, for comparison.
//
// Everything runs on this machine: the readers share the bench process's
// event loop, so receipt times include their own queueing (honest, but an
// upper bound on what 1,000 separate devices would see).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { docName, setSettingsText } from '@botsync/shared-docs'
import * as Y from 'yjs'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { signInitData } from '@botsync/testkit/init-data'
import { latencySummary, round2 } from '../lib/percentiles.ts'
import { login } from '@botsync/testkit/login'
import { RawClient } from '@botsync/testkit/raw-client'
import { ScratchSchema } from '../lib/scratch-schema.ts'
import { botsyncEnv } from '../lib/botsync-env.ts'
import { settledRss } from '../lib/process-memory.ts'
import { scrapeMetrics } from '../lib/server-metrics.ts'
import { onInterrupt } from '../lib/interrupt-cleanup.ts'
import { seedPublicSpace } from '../lib/public-seed.ts'
import { ServerProcess } from '@botsync/testkit/server-process'

const READERS = 1000
const WARM_READERS = 200
const BATCH = 50
const EDITS = 30
const PACING_MS = 200
const TARGET_RSS_PER_READER_BYTES = 8 * 1024
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const VANILLA_MAIN = new URL('../servers/vanilla-hocuspocus.ts', import.meta.url).pathname
const TELEGRAM_TOKEN = '123456:BENCH-readers'
const PROVIDER_VERSION = (JSON.parse(readFileSync(new URL('../../node_modules/@hocuspocus/provider/package.json', import.meta.url), 'utf8')) as { version: string }).version

export default async function run(): Promise<Record<string, unknown>> {
  const schema = await ScratchSchema.create(DATABASE_URL)
  try {
    const botsync = await measureBotsync(schema.url)
    const vanilla = await measureVanilla(schema.url)
    return {
      readers: READERS,
      warmReaders: WARM_READERS,
      botsync,
      vanilla,
      targets: { rssPerIdleReaderBytes: TARGET_RSS_PER_READER_BYTES },
      met: { rssPerIdleReaderBytes: botsync.rssPerIdleReaderBytes <= TARGET_RSS_PER_READER_BYTES },
    }
  } finally {
    await schema.drop()
  }
}

async function measureBotsync(databaseUrl: string) {
  const space = `bench${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-readers-'))
  const { env, admin } = botsyncEnv({ databaseUrl, dataDir })
  // /metrics, for V8's young generation at each step (vanilla has none).
  const metricsToken = randomUUID()
  await seedPublicSpace(databaseUrl, space)
  // npm start runs the bot in the server when TELEGRAM_BOT_TOKEN is set; it
  // talks to a local fake Bot API here (no internet), as in production otherwise.
  const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  let server: ServerProcess | undefined
  const readers: Reader[] = []
  let editor: Editor | undefined
  try {
    server = await ServerProcess.spawn({
      label: 'botsync',
      env: { ...env, BOT_SPACE: space, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot, METRICS_TOKEN: metricsToken },
      keepLines: 200,
      registerKill: onInterrupt,
    })
    const wsUrl = `ws://127.0.0.1:${server.port}/collab`
    const readersUrl = `ws://127.0.0.1:${server.port}/readers`
    const publicDoc = docName.public(space)
    const token = (i: number) => signInitData(TELEGRAM_TOKEN, { user: { id: 100_000 + i, first_name: `Reader ${i}` } })
    const token0 = await login(server.url, admin.email, admin.password)
    editor = await connectEditor(wsUrl, docName.settings(space), token0)
    readers.push(await openReader(readersUrl, publicDoc, token(0)))
    const process = server
    const newSpace = async () => (await scrapeMetrics(process.url, metricsToken)).get('nodejs_heap_space_size_total_bytes{space="new"}') ?? NaN
    const memory = await measureRss(server, (count) => connectReaders(readers, count, (i) => openReader(readersUrl, publicDoc, token(i))), newSpace)
    const fanOut = await measureFanOut(keepReaders(readers, READERS), editor)
    return { ...memory, fanOutMs: fanOut }
  } finally {
    for (const reader of readers) reader.client.close()
    editor?.destroy()
    await server?.stop()
    await api.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function measureVanilla(databaseUrl: string) {
  const name = `bench-readers-${randomUUID()}`
  let server: ServerProcess | undefined
  const readers: Reader[] = []
  let editor: Editor | undefined
  try {
    server = await ServerProcess.spawn({ label: 'vanilla', entry: VANILLA_MAIN, env: { PORT: '0', DATABASE_URL: databaseUrl }, keepLines: 200, registerKill: onInterrupt })
    const wsUrl = `ws://127.0.0.1:${server.port}`
    editor = await connectEditor(wsUrl, name, 'any')
    readers.push(await openReader(wsUrl, name, 'any'))
    const memory = await measureRss(server, (count) => connectReaders(readers, count, () => openReader(wsUrl, name, 'any')))
    const fanOut = await measureFanOut(keepReaders(readers, READERS), editor)
    return { ...memory, fanOutMs: fanOut }
  } finally {
    for (const reader of readers) reader.client.close()
    editor?.destroy()
    await server?.stop()
  }
}

/** A raw protocol reader and the arrival time of every update it received. */
interface Reader {
  client: RawClient
  updates: number[]
}

async function openReader(url: string, document: string, token: string): Promise<Reader> {
  const client = await RawClient.connect(url, document, token, { providerVersion: PROVIDER_VERSION })
  const reader: Reader = { client, updates: [] }
  client.onUpdate = (_update, at) => reader.updates.push(at)
  return reader
}

/** Opens `count` more readers, BATCH at a time; `open(i)` gets the reader's overall index. */
async function connectReaders(readers: Reader[], count: number, open: (index: number) => Promise<Reader>): Promise<void> {
  for (let opened = 0; opened < count; opened += BATCH) {
    const size = Math.min(BATCH, count - opened)
    const start = readers.length
    readers.push(...(await Promise.all(Array.from({ length: size }, (_, i) => open(start + i)))))
  }
}

/**
 * `connect(count)` opens that many more readers. `newSpace()`, where the
 * server reports it, is V8's young generation at each step: it grows (to a
 * cap) with the allocation rate of a burst of connections, not with readers,
 * and whichever step it lands in looks more expensive per reader.
 */
async function measureRss(server: ServerProcess, connect: (count: number) => Promise<void>, newSpace?: () => Promise<number>) {
  const pid = server.child.pid!
  const young: number[] = []
  const settled = async () => {
    const rss = await settledRss(pid, 20_000)
    if (newSpace) young.push(await newSpace())
    return rss
  }
  const cold = await settled()
  await connect(WARM_READERS)
  const warm = await settled()
  const started = performance.now()
  await connect(READERS)
  const connectMs = performance.now() - started
  const firstThousand = await settled()
  await connect(READERS)
  const after = await settled()
  return {
    rss: { oneReader: cold, warm, afterFirstThousand: firstThousand, after },
    rssPerIdleReaderBytes: Math.round((after - firstThousand) / READERS),
    rssPerReaderFirstThousandBytes: Math.round((firstThousand - warm) / READERS),
    rssPerReaderFromColdBytes: Math.round((after - cold) / (2 * READERS + WARM_READERS)),
    ...(newSpace ? { newSpace: { oneReader: young[0], warm: young[1], afterFirstThousand: young[2], after: young[3] } } : {}),
    connectThousandMs: round2(connectMs),
  }
}

/** Closes all but the first `keep` readers, so fan-out is measured to exactly that many. */
function keepReaders(readers: Reader[], keep: number): Reader[] {
  for (const reader of readers.splice(keep)) reader.client.close()
  return readers
}

async function measureFanOut(readers: Reader[], editor: Editor) {
  const samples: number[] = []
  let missed = 0
  for (let edit = 0; edit < EDITS; edit++) {
    const counts = readers.map((reader) => reader.updates.length)
    const started = performance.now()
    editor.edit(`Welcome, readers! Edit ${edit}.`)
    const deadline = Date.now() + 10_000
    while (readers.some((reader, i) => reader.updates.length === counts[i]) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    readers.forEach((reader, i) => {
      if (reader.updates.length === counts[i]) missed += 1
      else samples.push(reader.updates[counts[i]] - started)
    })
    await new Promise((resolve) => setTimeout(resolve, PACING_MS))
  }
  return { ...latencySummary(samples), edits: EDITS, missed }
}

interface Editor {
  edit(text: string): void
  destroy(): void
}

async function connectEditor(url: string, name: string, token: string): Promise<Editor> {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc, token })
  provider.attach()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`editor did not sync ${name}`)), 20_000)
    provider.on('synced', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  return {
    edit: (text) => setSettingsText(doc, 'welcome', text),
    destroy() {
      provider.destroy()
      socket.destroy()
    },
  }
}

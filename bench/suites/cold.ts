// Cold loads of a large space, and admin connections (`npm run bench -- cold`).
//
// A space of 500 scenarios × 10 steps (testkit/src/large-space.ts: built
// with shared-docs' own builders, one log row per document, planted in one
// INSERT), served by botsync as its own process on PostgreSQL.
//
// 1. The bot's first start: no replica file. A user's /start is waiting in
//    the fake Bot API; the clock starts when startBot() is called (the real
//    telegraf bot of bot/, its session store on PostgreSQL) and stops when
//    its answer reaches the fake. The replica opens settings, buttons, the
//    index and published, then the 500 scenario documents 50 at a time over
//    its one socket; the answer waits for its read-your-writes catch-up
//    (bounded by catchUpTimeoutMs, 2 s). Each round starts a fresh server
//    process, so the server also reads every document from PostgreSQL.
//    Also: until every document is synced, and until the last scenario's
//    command is answered (with its own text). Target: ≤ 3 s in every round.
// 2. The server's RSS with that space loaded (the bot holding all 504
//    documents), against the same process idle before the bot started.
// 3. The admin's scenario list, first visit in Chromium: a fresh browser
//    context (nothing cached, no service worker, no IndexedDB) logged in by
//    its own request, opening #/<space>/scenarios; first paint is the list's
//    performance mark and interactive the first task after it
//    (bench/lib/interactive-mark.ts, as admin-load.ts). Target: interactive
//    ≤ 1.5 s in every load.
// 4. Admin connections: admins in worker threads (bench/lib/admin-worker.ts),
//    each one socket with real providers on 10 documents (settings, buttons,
//    the index and 7 scenarios), all idle. The server's settled RSS (and its
//    heap used, from /metrics) at 50, 200 and 300 admins (the bot's
//    documents already loaded, so the growth is connections, not content);
//    per admin = growth / admins added.
// 5. 200 admins (one each on 200 scenarios, the others closed) type into
//    a step of their scenario, each its next character as soon as the last
//    was acknowledged (committed): acknowledgement latency p50/p99 and
//    acknowledged edits per second, reported.
//
// The machine is shared: the load average goes with every figure.
// BENCH_COLD_SCENARIOS changes the space's size, BENCH_COLD_PARTS
// (e.g. `bot,admin,connections`) picks what runs.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { docName } from '@botsync/shared-docs'
import { openDatabase } from '@botsync/persistence'
import { PgPoolClient, startBot, type BotHandle } from '@botsync/bot'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { largeSpace, plantLargeSpace } from '@botsync/testkit/large-space'
import { login } from '@botsync/testkit/login'
import { launchChromium } from '@botsync/testkit/browser'
import { ServerProcess } from '@botsync/testkit/server-process'
import pino from 'pino'
import { botsyncEnv, joinSpace } from '../lib/botsync-env.ts'
import { timeLoad, watchInteractive, type LoadTiming } from '../lib/interactive-mark.ts'
import { onInterrupt } from '../lib/interrupt-cleanup.ts'
import { latencySummary, round2 } from '../lib/percentiles.ts'
import { settledRss } from '../lib/process-memory.ts'
import type { AdminSpec, AdminWorkerMessage } from '../lib/admin-worker.ts'
import { scrapeMetrics } from '../lib/server-metrics.ts'

const SCENARIOS = Number(process.env.BENCH_COLD_SCENARIOS ?? 500)
const STEPS = 10
const BOT_ROUNDS = 3
const PAGE_LOADS = 5
const ADMIN_COUNTS = [50, 200, 300]
const EDITING_ADMINS = 200
const SCENARIO_DOCS_PER_ADMIN = 7
const ADMIN_WORKERS = 2
const EDIT_WARMUP_MS = 2000
const EDIT_MS = 10_000
const TARGET_BOT_FIRST_ANSWER_MS = 3000
const TARGET_LIST_INTERACTIVE_MS = 1500
const TELEGRAM_TOKEN = '123458:BENCH-cold'
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const PARTS = new Set((process.env.BENCH_COLD_PARTS ?? 'bot,admin,connections').split(','))

const METRICS_TOKEN = `cold-metrics-${Math.random().toString(36).slice(2)}`

/** nodejs_heap_size_used_bytes from the server's /metrics (prom-client's default metrics). */
async function heapUsed(base: string, token: string): Promise<number> {
  const used = (await scrapeMetrics(base, token)).get('nodejs_heap_size_used_bytes')
  if (used === undefined) throw new Error('no nodejs_heap_size_used_bytes in /metrics')
  return used
}

const load1 = (): number => round2(loadavg()[0])
const mb = (bytes: number): number => round2(bytes / 2 ** 20)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export default async function run(): Promise<Record<string, unknown>> {
  if (PARTS.has('admin')) execFileSync('npm', ['run', 'build', '-w', 'admin-svelte'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  const space = `cold${Math.random().toString(36).slice(2, 12)}`
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-cold-'))
  const { env, admin } = botsyncEnv({ databaseUrl: DATABASE_URL, dataDir })
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  const db = await openDatabase({ databaseUrl: DATABASE_URL })
  cleanup.push(() => db.close())
  let server: ServerProcess | undefined
  const result: Record<string, unknown> = { cpus: cpus().length, loadBefore: loadavg().map(round2) }
  const targets: Record<string, unknown> = {}
  try {
    const large = largeSpace(space, { scenarios: SCENARIOS, stepsPerScenario: STEPS })
    const plantStarted = performance.now()
    await plantLargeSpace(db, large)
    const bytes = [...large.documents.values()].reduce((sum, update) => sum + update.byteLength, 0)
    result.space = { scenarios: SCENARIOS, stepsPerScenario: STEPS, documents: large.documents.size, encodedBytes: bytes, plantMs: round2(performance.now() - plantStarted) }

    const telegram = new FakeBotApi({ token: TELEGRAM_TOKEN })
    await telegram.start()
    cleanup.unshift(() => telegram.stop())
    const sessions = new PgPoolClient(DATABASE_URL)
    cleanup.unshift(() => sessions.close())

    const startServer = async () => {
      // BOT_SPACE: the bot's service token reads this space only.
      server = await ServerProcess.spawn({ env: { ...env, BOT_SPACE: space, METRICS_TOKEN }, keepLines: 200, registerKill: onInterrupt })
      return server
    }
    cleanup.unshift(() => server?.stop())
    let bot: BotHandle | undefined
    cleanup.unshift(() => bot?.stop())
    const startTheBot = (round: number) =>
      startBot(
        {
          telegramToken: TELEGRAM_TOKEN,
          telegramApiRoot: telegram.apiRoot,
          serverUrl: `ws://127.0.0.1:${server!.port}/collab`,
          serviceToken: env.BOT_SERVICE_TOKEN,
          space,
          // A new file each round: the first start, with nothing saved.
          replicaFile: join(dataDir, `replica-${round}.json`),
          logLevel: 'warn',
        },
        { sessions, log: pino({ level: 'warn' }, process.stderr) },
      )

    // 1 and 2: the bot's first start, each round on a fresh server process.
    const rounds: Record<string, unknown>[] = []
    let serverMemory: Record<string, unknown> | undefined
    const botRounds = PARTS.has('bot') ? BOT_ROUNDS : 1
    for (let round = 0; round < botRounds; round++) {
      const last = round === botRounds - 1
      if (!server) await startServer()
      const idleRss = last ? await settledRss(server!.child.pid!, 10_000) : 0
      const user = { id: 930_000_000 + round, first_name: `Cold ${round}` }
      const loadAt = load1()
      const since = telegram.mark()
      telegram.sendCommand(user, 'start')
      const started = performance.now()
      bot = await startTheBot(round)
      const startBotMs = performance.now() - started
      const first = await telegram.nextMessageTo(user.id, { since, timeoutMs: 60_000 })
      const firstAnswerMs = performance.now() - started
      const synced = await bot.replica.whenSynced(60_000)
      const allSyncedMs = performance.now() - started
      const lastSince = telegram.mark()
      telegram.sendCommand(user, large.command(SCENARIOS - 1))
      const lastAnswer = await telegram.nextMessageTo(user.id, { since: lastSince, timeoutMs: 60_000 })
      const lastScenarioMs = performance.now() - started
      rounds.push({
        startBotMs: round2(startBotMs),
        firstAnswerMs: round2(firstAnswerMs),
        firstAnswerCorrect: first.message?.text === large.welcome,
        allSyncedMs: synced ? round2(allSyncedMs) : null,
        documents: bot.replica.documentNames().length,
        lastScenarioAnsweredMs: round2(lastScenarioMs),
        lastScenarioCorrect: lastAnswer.message?.text === large.message(SCENARIOS - 1, 0),
        load1: loadAt,
      })
      if (last) {
        const loadedRss = await settledRss(server!.child.pid!, 15_000)
        serverMemory = { idleRssMb: mb(idleRss), withSpaceLoadedRssMb: mb(loadedRss), spaceCostsMb: mb(loadedRss - idleRss), load1: load1() }
      } else {
        await bot.stop()
        bot = undefined
        await server!.stop()
        server = undefined
      }
    }
    if (PARTS.has('bot')) {
      const worst = Math.max(...rounds.map((r) => r.firstAnswerMs as number))
      const allCorrect = rounds.every((r) => r.firstAnswerCorrect && r.lastScenarioCorrect)
      result.botFirstStart = { rounds, firstAnswerMs: latencySummary(rounds.map((r) => r.firstAnswerMs as number)) }
      result.serverMemory = serverMemory
      targets.botFirstAnswerMs = {
        target: `the bot's first start (no replica file) on ${SCENARIOS} × ${STEPS}: startBot() → its answer to /start at the Bot API, ≤ ${TARGET_BOT_FIRST_ANSWER_MS} ms in every round, answers correct`,
        limit: TARGET_BOT_FIRST_ANSWER_MS,
        value: worst,
        met: worst <= TARGET_BOT_FIRST_ANSWER_MS && allCorrect,
      }
    }
    const base = `http://127.0.0.1:${server!.port}`
    await joinSpace(DATABASE_URL, admin.email, space)

    // 3. The admin's scenario list, first visit.
    if (PARTS.has('admin')) {
      const browser = await launchChromium()
      cleanup.unshift(() => browser.close())
      const loads: (LoadTiming & { load1: number; allRowsMs: number })[] = []
      for (let i = 0; i < PAGE_LOADS; i++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' })
        await watchInteractive(context)
        const answer = await context.request.post(`${base}/api/login`, { data: { email: admin.email, password: admin.password } })
        if (!answer.ok()) throw new Error(`login failed: ${answer.status()}`)
        const loadAt = load1()
        // The list draws its rows a chunk per frame after the first: when every one is in the DOM (the page's clock).
        const timing = await timeLoad(context, `${base}/#/${space}/scenarios`, async (page) => {
          const all = await page.waitForFunction((n) => document.querySelectorAll('[data-testid="scenario-row"]').length >= n && performance.now(), SCENARIOS, {
            polling: 'raf',
            timeout: 30_000,
          })
          return (await all.jsonValue()) as number
        })
        loads.push({ ...timing, allRowsMs: timing.after!, load1: loadAt })
        await context.close()
      }
      const worst = Math.max(...loads.map((l) => l.interactiveMs))
      result.adminFirstVisit = {
        loads: loads.map((l) => ({ listedMs: round2(l.listedMs), interactiveMs: round2(l.interactiveMs), allRowsMs: round2(l.allRowsMs), load1: l.load1 })),
        listedMs: latencySummary(loads.map((l) => l.listedMs)),
        interactiveMs: latencySummary(loads.map((l) => l.interactiveMs)),
        allRowsMs: latencySummary(loads.map((l) => l.allRowsMs)),
      }
      targets.adminListInteractiveMs = {
        target: `the admin's scenario list of ${SCENARIOS} scenarios, first visit in Chromium: navigation → list interactive, ≤ ${TARGET_LIST_INTERACTIVE_MS} ms in every load`,
        limit: TARGET_LIST_INTERACTIVE_MS,
        value: round2(worst),
        met: worst <= TARGET_LIST_INTERACTIVE_MS,
      }
      await browser.close()
      cleanup.shift()
    }

    // 4 and 5: admin connections.
    if (PARTS.has('connections')) {
      const token = await login(base, admin.email, admin.password)
      const workers = Array.from(
        { length: ADMIN_WORKERS },
        () => new Worker(new URL('../lib/admin-worker.ts', import.meta.url), { workerData: { url: `ws://127.0.0.1:${server!.port}/collab`, token } }),
      )
      cleanup.unshift(() => Promise.all(workers.map((w) => w.terminate())))
      const ask = <T>(worker: Worker, message: AdminWorkerMessage): Promise<T> =>
        new Promise((resolve, reject) => {
          const onError = (error: Error) => reject(error)
          worker.once('error', onError)
          worker.once('message', (answer: T) => {
            worker.off('error', onError)
            resolve(answer)
          })
          worker.postMessage(message)
        })
      const spec = (i: number): AdminSpec => {
        // gcd(7, 500) = 1: admin i's first scenario, 7i mod 500, is its own (unique for i < 500), the one it edits.
        const scenarios = Array.from({ length: SCENARIO_DOCS_PER_ADMIN }, (_, k) => large.scenarioId((i * SCENARIO_DOCS_PER_ADMIN + k) % SCENARIOS))
        return {
          id: i,
          documents: [docName.settings(space), docName.buttons(space), docName.scenarios(space), ...scenarios.map((id) => docName.scenario(space, id))],
          edit: i < EDITING_ADMINS ? { document: docName.scenario(space, scenarios[0]), stepId: large.stepId((i * SCENARIO_DOCS_PER_ADMIN) % SCENARIOS, 1) } : undefined,
        }
      }
      const pid = server!.child.pid!
      const counts: { admins: number; rssMb: number; heapUsedMb: number; load1: number; openMs: number }[] = []
      const before = await settledRss(pid, 10_000)
      const heapBefore = await heapUsed(base, METRICS_TOKEN)
      const rss: number[] = []
      const heap: number[] = []
      let open = 0
      for (const target of ADMIN_COUNTS) {
        const adding = Array.from({ length: target - open }, (_, k) => spec(open + k))
        const started = performance.now()
        // Opened in batches of 25 per worker, as tabs open over time, not hundreds of sockets in one burst.
        for (let b = 0; b < adding.length; b += 25 * ADMIN_WORKERS) {
          const batch = adding.slice(b, b + 25 * ADMIN_WORKERS)
          await Promise.all(workers.map((worker, w) => ask(worker, { type: 'open', admins: batch.filter((_, k) => k % ADMIN_WORKERS === w) })))
        }
        const openMs = performance.now() - started
        open = target
        await sleep(1000)
        const value = await settledRss(pid, 20_000)
        rss.push(value)
        heap.push(await heapUsed(base, METRICS_TOKEN))
        counts.push({ admins: target, rssMb: mb(value), heapUsedMb: mb(heap.at(-1)!), load1: load1(), openMs: round2(openMs) })
      }
      const per = (a: number, b: number, of = rss) => Math.round((of[b] - of[a]) / (ADMIN_COUNTS[b] - ADMIN_COUNTS[a]))
      result.adminConnections = {
        documentsPerAdmin: 3 + SCENARIO_DOCS_PER_ADMIN,
        rssBeforeMb: mb(before),
        heapUsedBeforeMb: mb(heapBefore),
        counts,
        rssPerIdleAdminBytes: per(1, 2),
        rssPerAdminFirstBytes: per(0, 1),
        heapPerIdleAdminBytes: per(1, 2, heap),
        heapPerAdminFirstBytes: per(0, 1, heap),
        note: `per idle admin: growth from ${ADMIN_COUNTS[1]} to ${ADMIN_COUNTS[2]} admins / ${ADMIN_COUNTS[2] - ADMIN_COUNTS[1]}; first: from ${ADMIN_COUNTS[0]} to ${ADMIN_COUNTS[1]}. RSS keeps what the heap once grew to (it fell when V8 shrank its heap in one run), heapUsed (the server's /metrics) moves with garbage not yet collected: read both`,
      }

      const closing = Array.from({ length: open - EDITING_ADMINS }, (_, k) => EDITING_ADMINS + k)
      await Promise.all(workers.map((worker) => ask(worker, { type: 'close', ids: closing })))
      await sleep(1000)
      const loadAt = load1()
      const answers = await Promise.all(workers.map((worker) => ask<{ latencies: number[] }>(worker, { type: 'edit', warmupMs: EDIT_WARMUP_MS, durationMs: EDIT_MS })))
      const latencies = answers.flatMap((a) => a.latencies)
      result.concurrentAdmins = {
        admins: EDITING_ADMINS,
        scenarios: EDITING_ADMINS,
        ackMs: latencySummary(latencies),
        ackedEditsPerSecond: round2(latencies.length / (EDIT_MS / 1000)),
        load1: { before: loadAt, after: load1() },
      }
    }
    result.loadAfter = loadavg().map(round2)
    result.targets = targets
    return result
  } catch (error) {
    // What the server said last explains most failures (a refusal, a closed socket).
    if (server) process.stderr.write(`[cold] server's last lines:\n${server.output.slice(-30).join('\n')}\n`)
    throw error
  } finally {
    for (const step of cleanup) await Promise.resolve(step()).catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// Admin edit → the bot's next answer. An admin's provider changes the welcome
// text; as soon as the admin sees it saved (the server acknowledged it, i.e.
// committed it), a user sends /start through the fake Bot API. Measured: the
// time from the edit until the bot's answer with the new text reaches the
// fake, over 200 edits. If the bot answers with the old text (it was behind
// the admin), the user asks again and the answer counts as stale; the target
// for those is 0 (read-your-writes: the bot catches up with what the server
// stored before it answers a batch).
//
// The server runs as its own process (PostgreSQL, like production); the bot,
// the fake Bot API and the admin client run in this process. Each ask goes to
// another simulated user and edits are paced, so the bot's Telegram rate
// limits (1/s per chat, 30/s overall) never queue an answer: what is measured
// is saving, propagation and answering, not the throttle.
//
// Then the durable inbox (bot_updates): the same real bot handler (telegraf,
// the runner, PostgreSQL sessions, sendMessage to the fake) once straight
// (what the bot did before the inbox: handle in memory, session written on
// its own) and once through the inbox as the poller feeds it (record and
// claim in one commit, handle, commit the session with the handled mark),
// in alternating rounds of one run:
// - handled updates/s with 100 chats at once (100 /start recorded in one
//   batch, as one getUpdates would bring them);
// - per-update latency one at a time, p50/p99, and the inbox's overhead
//   over the straight path (target: ≤ 2 ms at p99).
// This bot runs with Telegram's rate limits lifted (its own fake and
// token), so what is measured is the handling, not the throttle.
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { docName, getSettingsText, setSettingsText } from '@botsync/shared-docs'
import pino from 'pino'
import { InboxWorker, PgPoolClient, UpdateInbox, startBot, type BotHandle } from '@botsync/bot'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { storeDemoSpace } from '@botsync/testkit/server'
import { ServerProcess } from '@botsync/testkit/server-process'
import { login } from '@botsync/testkit/login'
import { botsyncEnv } from '../lib/botsync-env.ts'
import { connectEditor } from '../lib/editor.ts'

const EDITS = 200
const WARMUP = 20
const PACING_MS = 100
const USERS = 300
const TARGET_P99_MS = 50
const INBOX_CHATS = 100
const INBOX_ROUNDS = 10
const INBOX_SINGLES = 200
const TARGET_INBOX_OVERHEAD_P99_MS = 2
const INBOX_TOKEN = '654321:BENCH-inbox'
/** telegraf's Update, as the bot's handleUpdate takes it. */
type Update = Parameters<BotHandle['bot']['handleUpdate']>[0]
const TELEGRAM_TOKEN = '123456:BENCH-token'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export default async function run(): Promise<Record<string, unknown>> {
  const space = `bench${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-bot-'))
  const botToken = randomBytes(16).toString('hex')
  const { env, admin } = botsyncEnv({ databaseUrl: DATABASE_URL, dataDir })
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  try {
    await storeDemoSpace(space)
    const server = await ServerProcess.spawn({ env: { ...env, BOT_SERVICE_TOKEN: botToken, BOT_SPACE: space } })
    cleanup.push(() => server.stop())
    const wsUrl = `ws://127.0.0.1:${server.port}/collab`

    const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
    await api.start()
    cleanup.push(() => api.stop())
    const sessions = new PgPoolClient(DATABASE_URL)
    cleanup.push(() => sessions.close())
    const bot = await startBot(
      {
        telegramToken: TELEGRAM_TOKEN,
        telegramApiRoot: api.apiRoot,
        serverUrl: wsUrl,
        serviceToken: botToken,
        space,
        replicaFile: join(dataDir, 'bot-replica.json'),
        logLevel: 'warn',
      },
      { sessions, log: pino({ level: 'warn' }, process.stderr) },
    )
    cleanup.unshift(() => bot.stop())

    const token = await login(`http://127.0.0.1:${server.port}`, admin.email, admin.password)
    const editor = await connectEditor(wsUrl, docName.settings(space), token)
    cleanup.unshift(() => editor.destroy())

    // Users who have talked to the bot before, as most users of a live bot
    // have; each ask goes to the next one, so none comes near its chat's
    // rate limit (one message a second).
    const users = Array.from({ length: USERS }, (_, i) => ({ id: 900_000_000 + i, first_name: `Bench ${i}` }))
    for (const user of users) {
      const since = api.mark()
      api.sendCommand(user, 'start')
      await api.nextMessageTo(user.id, { since, timeoutMs: 10_000 })
      await new Promise((resolve) => setTimeout(resolve, 1000 / 25))
    }
    let nextUser = 0

    const answerMs: number[] = []
    const replicaMs: number[] = []
    const savedMs: number[] = []
    let staleAnswers = 0
    const loadBefore = loadavg()[0]
    for (let i = 0; i < WARMUP + EDITS; i++) {
      const text = `Welcome, edition ${i} (${randomBytes(3).toString('hex')})`
      const started = performance.now()
      let replicated = -1
      const unsubscribe = bot.replica.onChange(() => {
        if (replicated < 0 && getSettingsText(bot.replica.settings, 'welcome')?.toString() === text) replicated = performance.now() - started
      })
      setSettingsText(editor.doc, 'welcome', text)
      await editor.saved()
      const saved = performance.now() - started
      for (;;) {
        const user = users[nextUser++ % users.length]
        const since = api.mark()
        api.sendCommand(user, 'start')
        const answer = await api.nextMessageTo(user.id, { since, timeoutMs: 10_000 })
        if (answer.message?.text === text) break
        staleAnswers += i >= WARMUP ? 1 : 0
      }
      const elapsed = performance.now() - started
      unsubscribe()
      if (i >= WARMUP) {
        answerMs.push(elapsed)
        savedMs.push(saved)
        if (replicated >= 0) replicaMs.push(replicated)
      }
      const rest = PACING_MS - (performance.now() - started)
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
    }

    const inbox = await measureInbox(wsUrl, botToken, space, dataDir, sessions, cleanup)

    const answer = summary(answerMs)
    return {
      edits: EDITS,
      warmup: WARMUP,
      pacingMs: PACING_MS,
      editToAnswerMs: answer,
      editToSavedMs: summary(savedMs),
      editToReplicaMs: summary(replicaMs),
      staleAnswers,
      database: 'postgres',
      // Other work on the machine shows in the tail; these say how busy it was.
      loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0]) },
      cpus: cpus().length,
      inbox,
      targets: {
        editToAnswerP99Ms: TARGET_P99_MS,
        // Read-your-writes: an ask after "saved" must never get the previous text.
        staleAnswers: { target: '0 answers older than saved', limit: 0, value: staleAnswers, met: staleAnswers === 0 },
        inboxOverheadP99Ms: TARGET_INBOX_OVERHEAD_P99_MS,
      },
      pass: { editToAnswerP99: answer.p99 <= TARGET_P99_MS, staleAnswers: staleAnswers === 0, inboxOverheadP99: inbox.overheadMs.met },
    }
  } finally {
    for (const step of cleanup) await Promise.resolve(step()).catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/**
 * The inbox against the straight path, alternating (see the top). The
 * straight path calls the bot's handleUpdate (sessions written directly);
 * the inbox path records the updates in a bot_updates scope of its own and
 * hands what it claimed to an InboxWorker running the same handleUpdate.
 */
async function measureInbox(wsUrl: string, botToken: string, space: string, dataDir: string, sessions: PgPoolClient, cleanup: (() => Promise<unknown> | unknown)[]) {
  const api = new FakeBotApi({ token: INBOX_TOKEN })
  await api.start()
  cleanup.unshift(() => api.stop())
  const unlimited = { perSecond: 1_000_000, burst: 1_000_000 }
  const log = pino({ level: 'warn' }, process.stderr)
  const bot: BotHandle = await startBot(
    {
      telegramToken: INBOX_TOKEN,
      telegramApiRoot: api.apiRoot,
      serverUrl: wsUrl,
      serviceToken: botToken,
      space,
      replicaFile: join(dataDir, 'bot-replica-inbox.json'),
      logLevel: 'warn',
    },
    { sessions, log, rateLimits: { perChat: unlimited, global: unlimited } },
  )
  cleanup.unshift(() => bot.stop())
  const handle = (update: Update) => bot.bot.handleUpdate(update)
  const inbox = new UpdateInbox({ db: sessions, botId: Number(INBOX_TOKEN.split(':')[0]), space: `${space}-inbox`, owner: 'bench', leaseSeconds: 30 })
  await inbox.init()
  const handled = new Map<number, () => void>()
  const worker = new InboxWorker({ inbox, handle, log, onHandled: (update) => handled.get(update.update_id)?.() })
  worker.start()
  cleanup.unshift(() => worker.stop())

  const users = Array.from({ length: INBOX_CHATS }, (_, i) => ({ id: 910_000_000 + i, first_name: `Inbox ${i}` }))
  for (const user of users) api.addUser(user)
  let nextUpdateId = 1
  const startOf = (user: { id: number; first_name: string }): Update => {
    const id = nextUpdateId++
    const chat = { id: user.id, type: 'private' as const, first_name: user.first_name }
    const text = '/start'
    return {
      update_id: id,
      message: {
        message_id: id,
        date: Math.floor(Date.now() / 1000),
        chat,
        from: { id: user.id, is_bot: false, first_name: user.first_name },
        text,
        entities: [{ type: 'bot_command', offset: 0, length: text.length }],
      },
    }
  }
  const straight = async (updates: Update[]) => {
    await Promise.all(updates.map(handle))
  }
  const viaInbox = async (updates: Update[]) => {
    const done = Promise.all(updates.map((u) => new Promise<void>((resolve) => handled.set(u.update_id, resolve))))
    // What the poller does with a batch: record and claim in one statement, then handle.
    void worker.offer(await inbox.recordAndClaim(updates))
    await done
    for (const u of updates) handled.delete(u.update_id)
  }

  // Warm-up: every user has a session and each path's statements are warm.
  await straight(users.map(startOf))
  await viaInbox(users.map(startOf))

  const rate = { straight: [] as number[], inbox: [] as number[] }
  for (let r = 0; r < INBOX_ROUNDS; r++) {
    const order = r % 2 === 0 ? ([straight, viaInbox] as const) : ([viaInbox, straight] as const)
    for (const path of order) {
      const updates = users.map(startOf)
      const started = performance.now()
      await path(updates)
      rate[path === straight ? 'straight' : 'inbox'].push(updates.length / ((performance.now() - started) / 1000))
    }
  }
  const single = { straight: [] as number[], inbox: [] as number[] }
  for (let i = 0; i < INBOX_SINGLES * 2; i++) {
    const name = i % 2 === 0 ? 'straight' : 'inbox'
    const update = startOf(users[i % users.length])
    const started = performance.now()
    await (name === 'straight' ? straight : viaInbox)([update])
    single[name].push(performance.now() - started)
  }
  const mean = (values: number[]) => round(values.reduce((a, b) => a + b, 0) / values.length)
  const straightMs = summary(single.straight)
  const inboxMs = summary(single.inbox)
  const overheadP99 = round(inboxMs.p99 - straightMs.p99)
  return {
    chats: INBOX_CHATS,
    rounds: INBOX_ROUNDS,
    handledPerSecond100Chats: { straight: mean(rate.straight), inbox: mean(rate.inbox) },
    perUpdateMs: { straight: straightMs, inbox: inboxMs },
    overheadMs: { p50: round(inboxMs.p50 - straightMs.p50), p99: overheadP99, targetP99: TARGET_INBOX_OVERHEAD_P99_MS, met: overheadP99 <= TARGET_INBOX_OVERHEAD_P99_MS },
  }
}

const round = (value: number) => Math.round(value * 100) / 100

function summary(values: number[]): { p50: number; p90: number; p99: number; max: number; count: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN)
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? NaN), count: sorted.length }
}

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
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { DocumentStore, openDatabase } from '@botsync/persistence'
import { demoSeed, docName, getSettingsText, setSettingsText } from '@botsync/shared-docs'
import pino from 'pino'
import * as Y from 'yjs'
import { PgPoolClient, startBot } from '@botsync/bot'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { ServerProcess } from '@botsync/testkit/server-process'
import { login } from '@botsync/testkit/login'
import { botsyncEnv } from '../lib/botsync-env.ts'

const EDITS = 200
const WARMUP = 20
const PACING_MS = 100
const USERS = 300
const TARGET_P99_MS = 50
const TELEGRAM_TOKEN = '123456:BENCH-token'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export default async function run(): Promise<Record<string, unknown>> {
  const space = `bench${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-bot-'))
  const botToken = randomBytes(16).toString('hex')
  const { env, admin } = botsyncEnv({ databaseUrl: DATABASE_URL, dataDir })
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  try {
    await seed(space)
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
      targets: {
        editToAnswerP99Ms: TARGET_P99_MS,
        // Read-your-writes: an ask after "saved" must never get the previous text.
        staleAnswers: { target: '0 answers older than saved', limit: 0, value: staleAnswers, met: staleAnswers === 0 },
      },
      pass: { editToAnswerP99: answer.p99 <= TARGET_P99_MS, staleAnswers: staleAnswers === 0 },
    }
  } finally {
    for (const step of cleanup) await Promise.resolve(step()).catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const round = (value: number) => Math.round(value * 100) / 100

function summary(values: number[]): { p50: number; p90: number; p99: number; max: number; count: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN)
  return { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? NaN), count: sorted.length }
}

/** The demo content of `space`, stored the way the server seeds it. */
async function seed(space: string): Promise<void> {
  const db = await openDatabase({ databaseUrl: DATABASE_URL })
  try {
    const store = new DocumentStore(db)
    for (const [name, update] of demoSeed(space)) await store.append(name, update)
    await store.flush()
  } finally {
    await db.close()
  }
}

async function connectEditor(url: string, name: string, token: string): Promise<{ doc: Y.Doc; saved(): Promise<void>; destroy(): void }> {
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc, token })
  provider.attach()
  const deadline = Date.now() + 10_000
  while (!provider.isSynced) {
    if (Date.now() > deadline) throw new Error('the editor did not sync')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return {
    doc,
    /** Resolves when the server has acknowledged (committed) every change: the admin's "saved". */
    saved() {
      if (provider.unsyncedChanges === 0) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const onChange = ({ number }: { number: number }) => {
          if (number !== 0) return
          provider.off('unsyncedChanges', onChange)
          resolve()
        }
        provider.on('unsyncedChanges', onChange)
      })
    },
    destroy() {
      provider.destroy()
      socket.destroy()
    },
  }
}

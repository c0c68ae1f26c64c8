// Releases and history on a large space (`npm run bench -- history`).
//
// A space of 200 scenarios × 10 steps, created by importing a generated
// export file (POST /api/spaces/:space/import), served by botsync as its own
// process (PostgreSQL) with the real telegraf bot and the fake Bot API in
// this process. The space is switched to review mode (which publishes
// release 1). Then, per round, an admin edits the welcome text and one
// step's message and waits until they are saved; a user's /start must still
// get the released text (draftLeaks, target 0); the admin publishes and
// users send /start until the answer has the new text. Measured:
// - publish → the bot answering from the new release (p99 ≤ 500 ms), from
//   the POST to the first answer with the new text;
// - the change list between two versions, and between a version and the
//   drafts (p99 ≤ 100 ms, as the admin's History page asks it);
// - storage per release: the rows a release adds (its deduplicated states,
//   its version rows and the `<space>/published` update the bot reads) over
//   the encoded size of the space (the Yjs states of its content documents);
//   target ≤ 1.2× for every release, the first one included;
// - checkpoints of an unchanged space: rows added over several intervals
//   with no edit (target 0), and of a changed one (one per interval).
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  docName,
  setSettingsText,
  setStepMessage,
  SPACE_EXPORT_FORMAT,
  SPACE_EXPORT_VERSION,
  type ExportedScenario,
  type SpaceExportFile,
  type VersionSummary,
} from '@botsync/shared-docs'
import { openDatabase } from '@botsync/persistence'
import { PgPoolClient, startBot } from '@botsync/bot'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { ServerProcess } from '@botsync/testkit/server-process'
import { login } from '@botsync/testkit/login'
import pino from 'pino'
import { botsyncEnv } from '../lib/botsync-env.ts'
import { connectEditor } from '../lib/editor.ts'
import { latencySummary, round2 } from '../lib/percentiles.ts'

const SCENARIOS = 200
const STEPS = 10
const ROUNDS = 30
const CHANGE_LIST_ASKS = 40
const CHECKPOINT_INTERVAL_S = 2
const TARGET_PUBLISH_TO_ANSWER_P99_MS = 500
const TARGET_CHANGE_LIST_P99_MS = 100
const TARGET_STORAGE_RATIO = 1.2
const TELEGRAM_TOKEN = '123457:BENCH-history'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export default async function run(): Promise<Record<string, unknown>> {
  const space = `hist${randomUUID().replaceAll('-', '').slice(0, 10)}`
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-history-'))
  const { env, admin } = botsyncEnv({ databaseUrl: DATABASE_URL, dataDir })
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  const db = await openDatabase({ databaseUrl: DATABASE_URL })
  cleanup.push(() => db.close())
  try {
    const server = await ServerProcess.spawn({ env: { ...env, BOT_SPACE: space, CHECKPOINT_INTERVAL: String(CHECKPOINT_INTERVAL_S) } })
    cleanup.unshift(() => server.stop())
    const base = `http://127.0.0.1:${server.port}`
    const wsUrl = `ws://127.0.0.1:${server.port}/collab`
    const token = await login(base, admin.email, admin.password)
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${base}/api/spaces/${space}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`)
      return JSON.parse(text) as T
    }

    const file = generatedSpace(space)
    const importStarted = performance.now()
    await api('POST', '/import', file)
    const importMs = performance.now() - importStarted

    const telegram = new FakeBotApi({ token: TELEGRAM_TOKEN })
    await telegram.start()
    cleanup.unshift(() => telegram.stop())
    const sessions = new PgPoolClient(DATABASE_URL)
    cleanup.unshift(() => sessions.close())
    const bot = await startBot(
      {
        telegramToken: TELEGRAM_TOKEN,
        telegramApiRoot: telegram.apiRoot,
        serverUrl: wsUrl,
        serviceToken: env.BOT_SERVICE_TOKEN,
        space,
        replicaFile: join(dataDir, 'bot-replica.json'),
        logLevel: 'warn',
      },
      { sessions, log: pino({ level: 'warn' }, process.stderr) },
    )
    cleanup.unshift(() => bot.stop())

    const modeStarted = performance.now()
    await api('PUT', '/publish-mode', { mode: 'review' })
    const reviewModeMs = performance.now() - modeStarted
    const first = (await api<{ versions: VersionSummary[] }>('GET', '/versions')).versions.find((v) => v.kind === 'release')
    if (!first) throw new Error('review mode published no release')

    const settings = await connectEditor(wsUrl, docName.settings(space), token)
    cleanup.unshift(() => settings.destroy())
    const scenario = await connectEditor(wsUrl, docName.scenario(space, scenarioId(0)), token)
    cleanup.unshift(() => scenario.destroy())

    const users = Array.from({ length: 400 }, (_, i) => ({ id: 910_000_000 + i, first_name: `History ${i}` }))
    let nextUser = 0
    const ask = async (): Promise<string> => {
      const user = users[nextUser++ % users.length]
      const since = telegram.mark()
      telegram.sendCommand(user, 'start')
      const answer = await telegram.nextMessageTo(user.id, { since, timeoutMs: 10_000 })
      return answer.message?.text ?? ''
    }
    // The bot has content and answers from release 1.
    for (let tries = 0; (await ask()) !== file.content.settings.texts.welcome; tries++) {
      if (tries > 200) throw new Error('the bot never answered from release 1')
      await sleep(50)
    }

    const publishToAnswer: number[] = []
    const publishCall: number[] = []
    const releases: VersionSummary[] = [first]
    let draftLeaks = 0
    const loadBefore = loadavg()[0]
    for (let round = 1; round <= ROUNDS; round++) {
      const text = `Welcome, release ${round + 1} (${randomBytes(3).toString('hex')})`
      setSettingsText(settings.doc, 'welcome', text)
      setStepMessage(scenario.doc, stepId(0, 0), `First step, as of release ${round + 1}`)
      await Promise.all([settings.saved(), scenario.saved()])
      if ((await ask()) === text) draftLeaks++
      const started = performance.now()
      const release = await api<VersionSummary>('POST', '/releases', { note: `round ${round}` })
      publishCall.push(performance.now() - started)
      releases.push(release)
      for (;;) {
        if ((await ask()) === text) break
        if (performance.now() - started > 10_000) throw new Error(`release ${release.number} never reached the bot`)
      }
      publishToAnswer.push(performance.now() - started)
      await sleep(100)
    }

    const betweenVersions: number[] = []
    const againstDraft: number[] = []
    let changesSeen = 0
    for (let i = 0; i < CHANGE_LIST_ASKS; i++) {
      const a = releases[i % releases.length]
      const b = releases[(i * 7 + 3) % releases.length]
      let started = performance.now()
      const answer = await api<{ changes: unknown[] }>('GET', `/versions/${a.id}/changes?against=${b.id}`)
      betweenVersions.push(performance.now() - started)
      changesSeen += answer.changes.length
      started = performance.now()
      await api('GET', `/versions/${a.id}/changes?against=draft`)
      againstDraft.push(performance.now() - started)
    }

    const storage = await releaseStorage(db, space, releases)

    // Checkpoints: the drafts equal the last release now. Several intervals without an edit add nothing.
    await sleep(CHECKPOINT_INTERVAL_S * 1000 * 1.5)
    const before = await checkpointRows(db, space)
    await sleep(CHECKPOINT_INTERVAL_S * 1000 * 3)
    const unchangedRows = (await checkpointRows(db, space)) - before
    setStepMessage(scenario.doc, stepId(0, 1), `Edited after the last release ${randomBytes(3).toString('hex')}`)
    await scenario.saved()
    await sleep(CHECKPOINT_INTERVAL_S * 1000 * 2.5)
    const changedRows = (await checkpointRows(db, space)) - before - unchangedRows

    const publish = latencySummary(publishToAnswer)
    const changeList = latencySummary(betweenVersions)
    const draftList = latencySummary(againstDraft)
    const worstRatio = Math.max(...storage.perRelease.map((r) => r.ratio))
    return {
      space: { scenarios: SCENARIOS, stepsPerScenario: STEPS, encodedBytes: storage.encodedBytes, importMs: round2(importMs) },
      rounds: ROUNDS,
      reviewModeMs: round2(reviewModeMs),
      publishCallMs: latencySummary(publishCall),
      publishToAnswerMs: publish,
      draftLeaks,
      changeListMs: { betweenVersions: changeList, againstDraft: draftList, changesSeen },
      storage: {
        firstRelease: storage.perRelease[0],
        laterReleasesMeanRatio: round2(storage.perRelease.slice(1).reduce((s, r) => s + r.ratio, 0) / Math.max(1, storage.perRelease.length - 1)),
        worstRatio: round2(worstRatio),
      },
      checkpoints: { intervalSeconds: CHECKPOINT_INTERVAL_S, unchangedRows, changedRows },
      database: 'postgres',
      loadAverage1m: { before: round2(loadBefore), after: round2(loadavg()[0]) },
      cpus: cpus().length,
      targets: {
        publishToAnswerP99Ms: { limit: TARGET_PUBLISH_TO_ANSWER_P99_MS, value: publish.p99, met: publish.p99 <= TARGET_PUBLISH_TO_ANSWER_P99_MS },
        changeListP99Ms: {
          limit: TARGET_CHANGE_LIST_P99_MS,
          value: Math.max(changeList.p99, draftList.p99),
          met: Math.max(changeList.p99, draftList.p99) <= TARGET_CHANGE_LIST_P99_MS,
        },
        storagePerRelease: { limit: TARGET_STORAGE_RATIO, value: round2(worstRatio), met: worstRatio <= TARGET_STORAGE_RATIO },
        // Only meaningful when an edit does make a checkpoint: no rows at all would meet the first half by doing nothing.
        unchangedCheckpointRows: { limit: 0, value: unchangedRows, changedRows, met: unchangedRows === 0 && changedRows >= 1 },
        draftLeaks: { limit: 0, value: draftLeaks, met: draftLeaks === 0 },
      },
    }
  } finally {
    for (const step of cleanup) await Promise.resolve(step()).catch(() => {})
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const scenarioId = (i: number) => `sc${String(i).padStart(4, '0')}`
const stepId = (i: number, j: number) => `st${String(i).padStart(4, '0')}x${j}`

/** 200 scenarios × 10 steps of a few sentences each, as an export file: the import builds the documents. No publishMode: the space stays live until the suite switches it. */
function generatedSpace(space: string): SpaceExportFile {
  const scenarios: ExportedScenario[] = Array.from({ length: SCENARIOS }, (_, i) => ({
    id: scenarioId(i),
    title: `Scenario ${i}`,
    trigger: { command: `s${i}` },
    enabled: true,
    public: false,
    order: i,
    entryStepId: stepId(i, 0),
    steps: Array.from({ length: STEPS }, (_, j) => ({
      id: stepId(i, j),
      message: `Step ${j + 1} of scenario ${i}. Here the bot explains one more thing about the product, with a few words more so the message is the size of a real one.`,
      keyboard: { kind: 'inline' as const, rows: [] },
      input: null,
      next: j + 1 < STEPS ? stepId(i, j + 1) : null,
    })),
  }))
  return {
    format: SPACE_EXPORT_FORMAT,
    version: SPACE_EXPORT_VERSION,
    space: { id: space, name: space },
    exportedAt: new Date().toISOString(),
    content: {
      settings: {
        texts: { welcome: 'Welcome, release 1', fallback: 'Sorry?', maintenance: 'Back soon.', inputInvalid: 'Try again.' },
        flags: { botEnabled: true },
        mainMenu: [],
        publicTexts: [],
      },
      buttons: [],
      scenarios,
    },
  }
}

interface ReleaseStorage {
  encodedBytes: number
  perRelease: Array<{ number: number; bytes: number; ratio: number }>
}

/**
 * What each release added to PostgreSQL: the states it stored first (the
 * others are shared with earlier versions), its rows in versions and
 * version_documents, and the `<space>/published` log rows written between it
 * and the next release. Against the encoded size of the space at release 1:
 * the Yjs state of every content document.
 */
async function releaseStorage(db: Awaited<ReturnType<typeof openDatabase>>, space: string, releases: VersionSummary[]): Promise<ReleaseStorage> {
  const [{ bytes: encoded }] = await db.query<{ bytes: string }>(
    `SELECT coalesce(sum(octet_length(s.state)), 0)::bigint AS bytes
       FROM version_documents d JOIN version_states s ON s.space = $1 AND s.hash = d.state_hash
      WHERE d.version_id = $2`,
    [space, releases[0].id],
  )
  const encodedBytes = Number(encoded)
  const perRelease: ReleaseStorage['perRelease'] = []
  const seen = new Set<string>()
  for (let i = 0; i < releases.length; i++) {
    const release = releases[i]
    const states = await db.query<{ hash: string; bytes: number }>(
      `SELECT encode(d.state_hash, 'hex') AS hash, octet_length(s.state) AS bytes
         FROM version_documents d JOIN version_states s ON s.space = $1 AND s.hash = d.state_hash
        WHERE d.version_id = $2`,
      [space, release.id],
    )
    let bytes = 0
    for (const row of states) {
      if (!seen.has(row.hash)) bytes += Number(row.bytes)
      seen.add(row.hash)
    }
    const [rows] = await db.query<{ bytes: string }>(
      `SELECT (SELECT coalesce(sum(pg_column_size(d.*)), 0) FROM version_documents d WHERE d.version_id = $1)
            + (SELECT coalesce(sum(pg_column_size(v.*)), 0) FROM versions v WHERE v.id = $1) AS bytes`,
      [release.id],
    )
    bytes += Number(rows.bytes)
    const next = releases[i + 1]
    const [published] = await db.query<{ bytes: string }>(
      `SELECT coalesce(sum(octet_length(update)), 0)::bigint AS bytes FROM document_updates
        WHERE name = $1 AND created_at >= $2 AND ($3::timestamptz IS NULL OR created_at < $3)`,
      [`${space}/published`, release.createdAt, next?.createdAt ?? null],
    )
    bytes += Number(published.bytes)
    perRelease.push({ number: release.number, bytes, ratio: round2(bytes / encodedBytes) })
  }
  return { encodedBytes, perRelease }
}

async function checkpointRows(db: Awaited<ReturnType<typeof openDatabase>>, space: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM versions WHERE space = $1 AND kind = 'checkpoint'`, [space])
  return Number(row.n)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

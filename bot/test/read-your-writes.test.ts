// Read-your-writes and replica reset, end to end: the server as its own
// process on PostgreSQL, an editor's real provider, the fake Bot API, and the
// bot either embedded in the server process or on its own over its socket.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { createScenario, demoSeed, docName, getSettingsText, setSettingsText } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { FakeBotApi, type SimUser } from '@botsync/testkit/fake-bot-api'
import { login } from '@botsync/testkit/login'
import { spawnServer, storeDemoSpace, type ServerProcess } from '@botsync/testkit/server'
import { ReplicaFile } from '../src/replica/replica-file.ts'
import { PgPoolClient } from '../src/session/pg-pool-client.ts'
import { startBot, type BotHandle } from '../src/start-bot.ts'
import { BOT_TOKEN, DATABASE_URL, TELEGRAM_TOKEN, captureLogger, uniqueSpace, waitFor } from './helpers.ts'

const EDITS = 30
const ADMIN = { email: `owner-${randomBytes(4).toString('hex')}@test.local`, password: 'correct horse battery' }

const cleanup: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await Promise.resolve(step()).catch(() => {})
})

interface Editor {
  doc: Y.Doc
  /** The admin's "saved": the server acknowledged every change (unsyncedChanges back to 0). */
  saved(): Promise<void>
}

async function editor(server: ServerProcess, name: string): Promise<Editor> {
  const token = await login(server.url, ADMIN.email, ADMIN.password)
  const doc = new Y.Doc()
  const socket = new HocuspocusProviderWebsocket({ url: server.wsUrl })
  const provider = new HocuspocusProvider({ websocketProvider: socket, name, document: doc, token })
  provider.attach()
  cleanup.push(() => {
    provider.destroy()
    socket.destroy()
  })
  await waitFor(() => provider.isSynced, 'the editor to sync')
  return {
    doc,
    saved: () =>
      new Promise<void>((resolve) => {
        if (provider.unsyncedChanges === 0) return resolve()
        const onChange = ({ number }: { number: number }) => {
          if (number !== 0) return
          provider.off('unsyncedChanges', onChange)
          resolve()
        }
        provider.on('unsyncedChanges', onChange)
      }),
  }
}

async function fakeApi(): Promise<FakeBotApi> {
  const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  cleanup.push(() => api.stop())
  return api
}

async function server(space: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const process = await spawnServer({ BOT_SPACE: space, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ...env })
  cleanup.push(() => process.stop())
  return process
}

/** A bot on its own (what `npm start -w bot` runs), in this process, over its socket to `server`. */
async function standAloneBot(server: ServerProcess, api: FakeBotApi, space: string, replicaFile: string, log = captureLogger().log): Promise<BotHandle> {
  const sessions = new PgPoolClient(DATABASE_URL)
  cleanup.push(() => sessions.close())
  const bot = await startBot(
    { telegramToken: TELEGRAM_TOKEN, telegramApiRoot: api.apiRoot, serverUrl: server.wsUrl, serviceToken: BOT_TOKEN, space, replicaFile, logLevel: 'debug' },
    { sessions, log, activityFlushMs: 100, replicaSaveDelayMs: 50 },
  )
  cleanup.push(() => bot.stop())
  return bot
}

/**
 * EDITS times: the editor changes the welcome text and waits until it is
 * saved, then a user sends /start. Returns each answer's text next to the
 * text that was saved before it was asked.
 */
async function editThenAsk(api: FakeBotApi, edit: Editor, userFor: (i: number) => SimUser): Promise<{ expected: string[]; answered: string[] }> {
  const expected: string[] = []
  const answered: string[] = []
  for (let i = 0; i < EDITS; i++) {
    const text = `Welcome, edition ${i} (${randomBytes(3).toString('hex')})`
    setSettingsText(edit.doc, 'welcome', text)
    await edit.saved()
    const user = userFor(i)
    const since = api.mark()
    api.sendCommand(user, 'start')
    const answer = await api.nextMessageTo(user.id, { since, timeoutMs: 15_000 })
    expected.push(text)
    answered.push(answer.message?.text ?? '')
  }
  return { expected, answered }
}

const sameChat = (): SimUser => ({ id: 7100, first_name: 'Same' })
const newChats =
  (base: number) =>
  (i: number): SimUser => ({ id: base + i, first_name: `New ${i}` })

describe('read-your-writes: an answer after "saved" carries the saved content', () => {
  it('embedded bot (server process): 30 edits, /start from the same chat after each is saved, 30 answers with the new text', async () => {
    const space = uniqueSpace()
    await storeDemoSpace(space)
    const api = await fakeApi()
    const botsync = await server(space, { TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot })
    await waitFor(() => botsync.output.some((line) => line.includes('"bot-started"')), 'the embedded bot to start', 30_000)
    const edit = await editor(botsync, docName.settings(space))
    // The same chat asks every time, so its answers also wait for its rate-limit slot (about one a second).
    const { expected, answered } = await editThenAsk(api, edit, sameChat)
    expect(answered).toEqual(expected)
  }, 90_000)

  it('embedded bot (server process): 30 edits, each asked from a new chat, 30 answers with the new text', async () => {
    const space = uniqueSpace()
    await storeDemoSpace(space)
    const api = await fakeApi()
    const botsync = await server(space, { TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot })
    await waitFor(() => botsync.output.some((line) => line.includes('"bot-started"')), 'the embedded bot to start', 30_000)
    const edit = await editor(botsync, docName.settings(space))
    const { expected, answered } = await editThenAsk(api, edit, newChats(7200))
    expect(answered).toEqual(expected)
  }, 60_000)

  it('stand-alone bot over its own socket: 30 edits, each asked from a new chat, 30 answers with the new text', async () => {
    const space = uniqueSpace()
    await storeDemoSpace(space)
    const api = await fakeApi()
    const botsync = await server(space)
    const bot = await standAloneBot(botsync, api, space, join(mkdtempSync(join(tmpdir(), 'botsync-ryw-')), 'replica.json'))
    const edit = await editor(botsync, docName.settings(space))
    const { expected, answered } = await editThenAsk(api, edit, newChats(7300))
    expect(answered).toEqual(expected)
    expect(bot.replica.connected).toBe(true)
  }, 60_000)
})

describe('read-your-writes across instances', () => {
  it('stand-alone bot on one instance, the editor on another (Redis between them): 30 answers with the new text', async () => {
    const space = uniqueSpace()
    await storeDemoSpace(space)
    const api = await fakeApi()
    const prefix = `test-${space}`
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix }
    const editorSide = await server(space, { ...redis, INSTANCE_ID: `${prefix}-a` })
    const botSide = await server(space, { ...redis, INSTANCE_ID: `${prefix}-b` })
    await standAloneBot(botSide, api, space, join(mkdtempSync(join(tmpdir(), 'botsync-ryw-')), 'replica.json'))
    // "Saved" on instance a means committed to PostgreSQL; instance b hears of it through Redis.
    const edit = await editor(editorSide, docName.settings(space))
    const { expected, answered } = await editThenAsk(api, edit, newChats(7500))
    expect(answered).toEqual(expected)
  }, 60_000)

  it('a scenario created on another instance just before the user asks: its deep link answers with its first step', async () => {
    const space = uniqueSpace()
    await storeDemoSpace(space)
    const api = await fakeApi()
    const prefix = `test-${space}`
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: prefix }
    const editorSide = await server(space, { ...redis, INSTANCE_ID: `${prefix}-a` })
    const botSide = await server(space, { ...redis, INSTANCE_ID: `${prefix}-b` })
    await standAloneBot(botSide, api, space, join(mkdtempSync(join(tmpdir(), 'botsync-ryw-')), 'replica.json'))
    const index = await editor(editorSide, docName.scenarios(space))
    const answered: string[] = []
    const expected: string[] = []
    for (let i = 0; i < 5; i++) {
      // A new scenario document and its index entry, both saved, then at once its deep link.
      const id = `fresh${i}`
      const content = await editor(editorSide, docName.scenario(space, id))
      const message = `Fresh scenario ${i} (${randomBytes(3).toString('hex')})`
      createScenario(index.doc, content.doc, { id, title: id, enabled: true, trigger: { deepLink: id }, firstStep: { message } })
      await Promise.all([content.saved(), index.saved()])
      const user = { id: 7600 + i, first_name: `Fresh ${i}` }
      const since = api.mark()
      api.sendCommand(user, 'start', id)
      const answer = await api.nextMessageTo(user.id, { since, timeoutMs: 15_000 })
      expected.push(message)
      answered.push(answer.message?.text ?? '')
    }
    expect(answered).toEqual(expected)
  }, 60_000)
})

describe('replica reset', () => {
  it('a replica file from another database: the bot answers with the server content only, and logs the reset once', async () => {
    const space = uniqueSpace()
    await storeDemoSpace(space)
    // The same space in "another database": the demo seed plus edits this server never saw.
    const foreign = new Map<string, Uint8Array>()
    for (const [name, update] of demoSeed(space)) {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, update)
      if (name === docName.settings(space)) setSettingsText(doc, 'welcome', 'Welcome from another database')
      foreign.set(name, Y.encodeStateAsUpdate(doc))
    }
    const replicaFile = join(mkdtempSync(join(tmpdir(), 'botsync-reset-')), 'replica.json')
    await new ReplicaFile(replicaFile).save(space, foreign)

    const api = await fakeApi()
    const botsync = await server(space)
    const logs = captureLogger()
    const bot = await standAloneBot(botsync, api, space, replicaFile, logs.log)
    const user = { id: 7400, first_name: 'Reset' }
    const since = api.mark()
    api.sendCommand(user, 'start')
    const answer = await api.nextMessageTo(user.id, { since, timeoutMs: 15_000 })
    expect(answer.message?.text).toBe('Welcome to the botsync demo bot! Pick an option below.')
    expect(getSettingsText(bot.replica.settings, 'welcome')?.toString()).toBe('Welcome to the botsync demo bot! Pick an option below.')

    // And the next ones too; the file on disk now holds the server's content only.
    const again = api.mark()
    api.sendText(user, 'hello?')
    await api.nextMessageTo(user.id, { since: again, timeoutMs: 15_000 })
    await bot.replica.flush()
    const restored = await new ReplicaFile(replicaFile).load(space)
    const settings = new Y.Doc()
    Y.applyUpdate(settings, restored.get(docName.settings(space))!)
    expect(getSettingsText(settings, 'welcome')?.toString()).toBe('Welcome to the botsync demo bot! Pick an option below.')
    expect(logs.lines.filter((line) => line.event === 'replica-reset')).toHaveLength(1)
  }, 60_000)
})

// The chat simulator ("Try it"): the bot's real ScenarioRunner answers in
// the server process from the space's replica, with an in-memory session:
// its answers are what the real bot sends for the same content, and trying
// the bot writes no bot_sessions row, changes no activity counter and calls
// no Bot API method.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import * as Y from 'yjs'
import { PgPoolClient, startBot, type BotHandle } from '@botsync/bot'
import { createLogger } from '@botsync/bot'
import { demoSeed, docName, projectActivity, setFlag, setMediaInfo, setStepMedia, setStepMessage, type SimulatorAnswer, type SimulatorSessionCreated } from '@botsync/shared-docs'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { apiRequest, BOT_TOKEN, connect, DATABASE_URL, memberOf, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'
import type { BotsyncServer } from '../src/botsync-server.ts'

const TELEGRAM_TOKEN = '654321:SIM-token_abc'
let server: BotsyncServer
let space: string
let db: PgPoolClient

beforeAll(async () => {
  space = uniqueSpace()
  server = await startServer({ BOT_SPACE: space })
  await server.spaces.ensure(space)
  for (const [name, update] of demoSeed(space)) await server.store.append(name, update)
  db = new PgPoolClient(DATABASE_URL)
})

afterAll(async () => {
  await server?.stop()
  await db?.close()
})

async function counters(): Promise<Record<string, number>> {
  const state = await server.writer.read(docName.activity(space))
  const doc = new Y.Doc()
  if (state) Y.applyUpdate(doc, state)
  return projectActivity(doc).counters
}

async function sessionRows(): Promise<number> {
  const rows = await db.query<{ n: string }>('SELECT count(*) AS n FROM bot_sessions WHERE space = $1', [space]).catch(() => [{ n: '0' }])
  return Number(rows[0].n)
}

const base = () => `/api/spaces/${space}/simulator`

it('walks the onboarding with the real runner: buttons edit in place, an invalid then a valid answer, variables filled; nothing real changes', async () => {
  const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  try {
    const { token } = await memberOf(server, space, 'viewer')
    const sessionsBefore = await sessionRows()
    const countersBefore = await counters()

    const created = await apiRequest(server, 'POST', base(), token, {})
    expect(created.status).toBe(200)
    const { id, source } = created.body as SimulatorSessionCreated
    expect(source).toBe('drafts')
    const say = async (text: string) => {
      const answer = await apiRequest(server, 'POST', `${base()}/${id}/message`, token, { text })
      expect(answer.status).toBe(200)
      return answer.body as SimulatorAnswer
    }
    const press = async (messageId: number, buttonId: string) => {
      const answer = await apiRequest(server, 'POST', `${base()}/${id}/press`, token, { messageId, buttonId })
      expect(answer.status).toBe(200)
      return answer.body as SimulatorAnswer
    }

    const welcome = await say('/start')
    expect(welcome.sent).toHaveLength(1)
    expect(welcome.sent[0].text).toBe('Welcome to the botsync demo bot! Pick an option below.')
    const menu = welcome.sent[0]
    expect(menu.replyMarkup && 'inline_keyboard' in menu.replyMarkup ? menu.replyMarkup.inline_keyboard.flat().map((b) => b.callback_data) : []).toContain('b:start')

    const intro = await press(menu.messageId, 'start')
    expect(intro.answeredCallback).toBe(true)
    expect(intro.sent).toEqual([])
    expect(intro.edited.map((m) => [m.messageId, m.text])).toEqual([[menu.messageId, "Hi! Let's get you set up. It takes less than a minute."]])

    const ask = await press(menu.messageId, 'ob_continue')
    expect(ask.edited.map((m) => m.text)).toEqual(['What should I call you?'])

    // An answer over 1000 characters is not a name: the bot asks again, and the step stays.
    const invalid = await say('x'.repeat(1001))
    expect(invalid.sent.map((m) => m.text)).toEqual(["That doesn't look right. Please try again."])
    const valid = await say('Ana')
    expect(valid.sent.map((m) => m.text)).toEqual(['Nice to meet you, Ana! You are all set.'])

    // Reset ends the conversation; the id is gone afterwards.
    expect((await apiRequest(server, 'DELETE', `${base()}/${id}`, token)).status).toBe(204)
    expect((await apiRequest(server, 'POST', `${base()}/${id}/message`, token, { text: '/start' })).status).toBe(404)

    // Nothing real moved: no session row, no counter, no Bot API call (a user_started alone would show).
    expect(await sessionRows()).toBe(sessionsBefore)
    expect(await counters()).toEqual(countersBefore)
    expect(api.mark()).toBe(0)
  } finally {
    await api.stop()
  }
})

it("'Start from this step' shows that step and answers from it; another user's conversation is not found; bad input is a clear 400", async () => {
  const token = await userToken(server, 'editor', space)
  const other = await userToken(server, 'editor', space)
  const created = await apiRequest(server, 'POST', base(), token, { scenarioId: 'onboarding', stepId: 'ask_name' })
  expect(created.status).toBe(200)
  const body = created.body as SimulatorSessionCreated
  expect(body.sent.map((m) => m.text)).toEqual(['What should I call you?'])
  const answer = await apiRequest(server, 'POST', `${base()}/${body.id}/message`, token, { text: 'Ben' })
  expect((answer.body as SimulatorAnswer).sent.map((m) => m.text)).toEqual(['Nice to meet you, Ben! You are all set.'])

  expect((await apiRequest(server, 'POST', `${base()}/${body.id}/message`, other, { text: 'hi' })).body).toMatchObject({ error: 'simulator-session-not-found' })
  expect((await apiRequest(server, 'POST', `${base()}/${body.id}/message`, token, { text: '' })).body).toMatchObject({ error: 'invalid-request' })
  expect((await apiRequest(server, 'POST', `${base()}/${body.id}/press`, token, { buttonId: 'start' })).status).toBe(400)
  expect((await apiRequest(server, 'POST', base(), token, { source: 'tomorrow' })).status).toBe(400)
  expect((await apiRequest(server, 'POST', base(), token, { stepId: 'ask_name' })).status).toBe(400)
  expect((await apiRequest(server, 'POST', base(), null, {})).status).toBe(401)
  expect((await apiRequest(server, 'POST', `/api/spaces/${uniqueSpace()}/simulator`, token, {})).status).toBeGreaterThanOrEqual(403)
})

it("shows a media step's photo and an album by their media ids, through the bot's own media sending, reading and uploading no bytes", async () => {
  const mediaSpace = uniqueSpace()
  await server.spaces.ensure(mediaSpace)
  for (const [name, update] of demoSeed(mediaSpace)) await server.store.append(name, update)
  const [photo, video] = ['1'.repeat(64), '2'.repeat(64)]
  // Listed in the library (as an upload would), with no bytes in the media store: the simulator must not need them.
  await server.writer.change(docName.settings(mediaSpace), (doc) => {
    setMediaInfo(doc, photo, { kind: 'photo', mime: 'image/png', bytes: 10, name: 'a.png', width: 2, height: 2 })
    setMediaInfo(doc, video, { kind: 'video', mime: 'video/mp4', bytes: 10, name: 'b.mp4' })
  })
  await server.writer.change(docName.scenario(mediaSpace, 'onboarding'), (doc) => void setStepMedia(doc, 'welcome', { items: [{ id: photo, kind: 'photo' }] }))
  const token = await userToken(server, 'editor', mediaSpace)
  const start = async () => {
    const created = await apiRequest(server, 'POST', `/api/spaces/${mediaSpace}/simulator`, token, { scenarioId: 'onboarding', stepId: 'welcome' })
    expect(created.status).toBe(200)
    return (created.body as SimulatorSessionCreated).sent
  }
  const single = await start()
  expect(single.map((m) => [m.method, m.text, m.media])).toEqual([['sendPhoto', "Hi! Let's get you set up. It takes less than a minute.", [{ kind: 'photo', id: photo }]]])

  await server.writer.change(
    docName.scenario(mediaSpace, 'onboarding'),
    (doc) =>
      void setStepMedia(doc, 'welcome', {
        items: [
          { id: photo, kind: 'photo' },
          { id: video, kind: 'video' },
        ],
      }),
  )
  await waitFor(async () => (await start())[0]?.method === 'sendMediaGroup', 'the album in the simulator')
  const album = await start()
  // Telegram's album carries no keyboard: the items, then the message with its buttons (as the real bot does).
  expect(album.map((m) => [m.method, m.media])).toEqual([
    ['sendMediaGroup', [{ kind: 'photo', id: photo }]],
    ['sendMediaGroup', [{ kind: 'video', id: video }]],
    ['sendMessage', undefined],
  ])
  expect(await server.media.count(mediaSpace)).toBe(0)
})

it('answers exactly what the real bot sends for /start, and reads an edit made just before (the link-preview switch too)', async () => {
  const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  let bot: BotHandle | undefined
  const sessions = new PgPoolClient(DATABASE_URL)
  const settings = connect(wsUrlOf(server), docName.settings(space), await userToken(server, 'editor', space))
  try {
    await synced(settings)
    settings.doc.transact(() => setFlag(settings.doc, 'linkPreviews', false))
    await waitFor(() => settings.provider.unsyncedChanges === 0, 'the switch to be saved')
    bot = await startBot(
      {
        telegramToken: TELEGRAM_TOKEN,
        telegramApiRoot: api.apiRoot,
        serverUrl: wsUrlOf(server),
        serviceToken: BOT_TOKEN,
        space,
        logLevel: 'silent',
        replicaFile: join(mkdtempSync(join(tmpdir(), 'botsync-sim-')), 'replica.json'),
      },
      { sessions, log: createLogger('silent'), activityFlushMs: 50 },
    )
    const user = { id: 7301, first_name: 'Real' }
    const since = api.mark()
    api.sendCommand(user, 'start')
    const real = await api.nextMessageTo(user.id, { since, timeoutMs: 10_000 })
    expect(real.params.link_preview_options).toEqual({ is_disabled: true })

    const token = await userToken(server, 'owner', space)
    const { id } = (await apiRequest(server, 'POST', base(), token, {})).body as SimulatorSessionCreated
    const simulated = ((await apiRequest(server, 'POST', `${base()}/${id}/message`, token, { text: '/start' })).body as SimulatorAnswer).sent
    expect(simulated).toHaveLength(1)
    expect({ text: simulated[0].text, entities: simulated[0].entities, reply_markup: simulated[0].replyMarkup, linkPreview: simulated[0].linkPreview }).toEqual({
      text: real.params.text,
      entities: real.params.entities ?? [],
      reply_markup: real.params.reply_markup,
      linkPreview: false,
    })

    // An edit acknowledged a moment ago is in the very next simulated answer (the replica's catch-up).
    const onboarding = connect(wsUrlOf(server), docName.scenario(space, 'onboarding'), await userToken(server, 'editor', space))
    try {
      await synced(onboarding)
      onboarding.doc.transact(() => setStepMessage(onboarding.doc, 'welcome', 'Edited just now'))
      await waitFor(() => onboarding.provider.unsyncedChanges === 0, 'the edit to be saved')
      const again = ((await apiRequest(server, 'POST', `${base()}/${id}/message`, token, { text: '/onboarding' })).body as SimulatorAnswer).sent
      expect(again.map((m) => m.text)).toEqual(['Edited just now'])
    } finally {
      onboarding.destroy()
    }
  } finally {
    settings.destroy()
    await bot?.stop()
    await sessions.close()
    await api.stop()
  }
})

it('in review mode answers from the current release or from the drafts, as chosen', async () => {
  const reviewed = uniqueSpace()
  await server.spaces.ensure(reviewed)
  for (const [name, update] of demoSeed(reviewed)) await server.store.append(name, update)
  const owner = await memberOf(server, reviewed, 'owner')
  const at = `/api/spaces/${reviewed}/simulator`
  expect((await apiRequest(server, 'POST', `/api/spaces/${reviewed}/releases`, owner.token, {})).status).toBe(201)
  expect((await apiRequest(server, 'PUT', `/api/spaces/${reviewed}/publish-mode`, owner.token, { mode: 'review' })).status).toBe(200)
  const onboarding = connect(wsUrlOf(server), docName.scenario(reviewed, 'onboarding'), owner.token)
  try {
    await synced(onboarding)
    onboarding.doc.transact(() => setStepMessage(onboarding.doc, 'welcome', 'Not published yet'))
    await waitFor(() => onboarding.provider.unsyncedChanges === 0, 'the edit to be saved')
    const first = async (source: 'drafts' | 'release') => {
      const { id } = (await apiRequest(server, 'POST', at, owner.token, { source })).body as SimulatorSessionCreated
      return ((await apiRequest(server, 'POST', `${at}/${id}/message`, owner.token, { text: '/onboarding' })).body as SimulatorAnswer).sent.map((m) => m.text)
    }
    expect(await first('release')).toEqual(["Hi! Let's get you set up. It takes less than a minute."])
    expect(await first('drafts')).toEqual(['Not published yet'])
  } finally {
    onboarding.destroy()
  }
})

it('drops a conversation unused for SIMULATOR_TTL_SECONDS and closes its replica; refuses one beyond SIMULATOR_MAX_SESSIONS', async () => {
  const bounded = await startServer({ SIMULATOR_TTL_SECONDS: '1', SIMULATOR_MAX_SESSIONS: '1' })
  try {
    const own = uniqueSpace()
    await bounded.spaces.ensure(own)
    for (const [name, update] of demoSeed(own)) await bounded.store.append(name, update)
    const ana = await userToken(bounded, 'editor', own)
    const ben = await userToken(bounded, 'editor', own)
    const at = `/api/spaces/${own}/simulator`
    const { id } = (await apiRequest(bounded, 'POST', at, ana, {})).body as SimulatorSessionCreated
    // The replica the conversation answers from is a read-only client of this server.
    expect(bounded.server.hocuspocus.getConnectionsCount()).toBeGreaterThan(0)
    const busy = await apiRequest(bounded, 'POST', at, ben, {})
    expect(busy.status).toBe(429)
    expect(busy.body).toMatchObject({ error: 'simulator-busy' })
    // A second conversation of Ana's replaces her first rather than counting twice.
    const { id: again } = (await apiRequest(bounded, 'POST', at, ana, {})).body as SimulatorSessionCreated
    expect((await apiRequest(bounded, 'POST', `${at}/${id}/message`, ana, { text: '/start' })).status).toBe(404)
    // Left alone (asking through the API would keep it alive), it is dropped by the sweep.
    await expect.poll(() => bounded.simulator.size, { timeout: 5_000 }).toBe(0)
    expect((await apiRequest(bounded, 'POST', `${at}/${again}/message`, ana, { text: '/start' })).status).toBe(404)
    await expect.poll(() => bounded.server.hocuspocus.getConnectionsCount(), { timeout: 5_000 }).toBe(0)
    expect((await apiRequest(bounded, 'POST', at, ben, {})).status).toBe(200)
  } finally {
    await bounded.stop()
  }
})

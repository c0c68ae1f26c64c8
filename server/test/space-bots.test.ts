// A bot per space: the owner sets a space's token over the API, the server
// checks it with getMe, stores it sealed and runs that space's bot against
// the fake Bot API (several bots behind one root), restarts it when the
// token changes, stops it when removed, shows Telegram's refusal in its
// status; Mini App readers and the bots' own /collab tokens are per space.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName, initSettingsDoc, projectActivity, setSettingsText } from '@botsync/shared-docs'
import { FakeTelegram, type FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { signInitData } from '@botsync/testkit/init-data'
import {
  addMember,
  BOT_TOKEN,
  connect,
  joinSpace,
  login,
  memberOf,
  readersUrlOf,
  spawnServer,
  startServer,
  synced,
  uniqueSpace,
  userToken,
  waitFor,
  wsUrlOf,
  type TestClient,
} from '@botsync/testkit/server'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { spaceServiceToken } from '../src/auth/bot-service-tokens.ts'
import { startEmbeddedBot } from '../src/embedded-bot.ts'
import { telegramGetMe, TelegramUnreachable } from '../src/bots/telegram-get-me.ts'

/** Bot ids differ per run: space_bots keeps one row per bot id, and rows of earlier runs stay in the shared database. */
const RUN = 1_000_000 + Math.floor(Math.random() * 8_000_000_000)
const tokenFor = (n: number) => `${RUN * 10_000 + n}:AAsecret-${Math.random().toString(36).slice(2)}-padding-padding`

describe('a bot per space', () => {
  const telegram = new FakeTelegram()
  let server: BotsyncServer
  let second: BotsyncServer
  let base: string
  let owner: string
  let editor: string
  const clients: TestClient[] = []
  const spaceA = uniqueSpace()
  const spaceB = uniqueSpace()
  const botA1 = { token: tokenFor(7101), username: 'space_a_bot' }
  const botA2 = { token: tokenFor(7102), username: 'space_a_new_bot' }
  const botB = { token: tokenFor(7103), username: 'space_b_bot' }
  const fakes = new Map<string, FakeBotApi>()

  const api = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  const botOf = (space: string) => api('GET', `/api/spaces/${space}/bot`, owner).then((r) => r.json() as Promise<Record<string, unknown>>)
  /** The bot answers /start with its space's welcome text. */
  const answersStart = async (bot: FakeBotApi, user: { id: number; first_name: string }, text: string) => {
    const since = bot.mark()
    bot.sendCommand(user, 'start')
    const call = await bot.nextMessageTo(user.id, { since, timeoutMs: 15_000 })
    expect(call.message?.text).toBe(text)
  }
  const pollsSince = (bot: FakeBotApi, since: number) => bot.calls.slice(since).filter((c) => c.method === 'getUpdates').length

  beforeAll(async () => {
    await telegram.start()
    for (const bot of [botA1, botA2, botB]) fakes.set(bot.token, telegram.bot({ token: bot.token, botUsername: bot.username }))
    const env = { TELEGRAM_API_ROOT: telegram.apiRoot, BOT_SPACE: uniqueSpace(), BOT_STANDBY_RETRY_MS: '200', MINIAPP_URL: 'https://app.example.test/miniapp.html' }
    server = await startServer(env)
    // A second instance on the same database: it learns every change by NOTIFY.
    second = await startServer(env)
    base = `http://127.0.0.1:${server.port}`
    // Roles are per space: the owner and the editor are members of both spaces.
    const ownerMember = await memberOf(server, spaceA, 'owner')
    await addMember(server, spaceB, ownerMember.userId, 'owner')
    owner = ownerMember.token
    const editorMember = await memberOf(server, spaceA, 'editor')
    await addMember(server, spaceB, editorMember.userId, 'editor')
    editor = editorMember.token
    for (const [space, welcome] of [
      [spaceA, 'Welcome to A'],
      [spaceB, 'Welcome to B'],
    ]) {
      await server.writer.change(docName.settings(space), (doc) => {
        initSettingsDoc(doc)
        setSettingsText(doc, 'welcome', welcome)
      })
    }
    await startEmbeddedBot(server)
    await startEmbeddedBot(second)
  }, 30_000)
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server?.stop()
    await second?.stop()
    await telegram.stop()
  })

  it('refuses a token Telegram refuses with 400 and its description, a malformed one, and non-owners; stores nothing', async () => {
    const refused = await api('PUT', `/api/spaces/${spaceA}/bot`, owner, { token: tokenFor(7999) })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toEqual({ error: 'telegram-refused', message: 'Unauthorized' })
    const malformed = await api('PUT', `/api/spaces/${spaceA}/bot`, owner, { token: 'not a token' })
    expect(malformed.status).toBe(400)
    expect(((await malformed.json()) as { error: string }).error).toBe('invalid-token')
    const byEditor = await api('PUT', `/api/spaces/${spaceA}/bot`, editor, { token: botA1.token })
    expect(byEditor.status).toBe(403)
    expect(((await byEditor.json()) as { error: string }).error).toBe('not-an-owner')
    expect(await server.db.query('SELECT 1 FROM space_bots WHERE space = $1', [spaceA])).toEqual([])
    expect(await botOf(spaceA)).toEqual({ configured: false })
    // No answer at all from the Bot API root: unreachable (502 telegram-unreachable on PUT).
    await expect(telegramGetMe('http://127.0.0.1:9', botA1.token, 2_000)).rejects.toBeInstanceOf(TelegramUnreachable)
  })

  it('starts the bot of a space whose token is set, on every instance; the token is stored sealed and never answered back', async () => {
    const response = await api('PUT', `/api/spaces/${spaceA}/bot`, owner, { token: botA1.token })
    const text = await response.text()
    expect(response.status).toBe(200)
    expect(JSON.parse(text)).toEqual({ username: botA1.username })
    expect(text).not.toContain(botA1.token)
    await answersStart(fakes.get(botA1.token)!, { id: 9001, first_name: 'Ann' }, 'Welcome to A')
    // Its Mini App (the menu button) names its space, so the page asks for that space's content.
    const menu = fakes.get(botA1.token)!.callsOf('setChatMenuButton').at(-1)
    expect(JSON.stringify(menu?.params)).toContain(`https://app.example.test/miniapp.html?space=${spaceA}`)
    const [row] = await server.db.query<{ token_ciphertext: Uint8Array; bot_id: string }>('SELECT token_ciphertext, bot_id::text AS bot_id FROM space_bots WHERE space = $1', [
      spaceA,
    ])
    expect(row.bot_id).toBe(botA1.token.split(':')[0])
    const bytes = Buffer.from(row.token_ciphertext)
    expect(bytes.includes(Buffer.from(botA1.token))).toBe(false)
    expect(bytes.includes(Buffer.from(botA1.token.split(':')[1]))).toBe(false)
    const view = await api('GET', `/api/spaces/${spaceA}/bot`, owner)
    const viewText = await view.text()
    expect(viewText).not.toContain(botA1.token.split(':')[1])
    expect(JSON.parse(viewText)).toEqual({ configured: true, username: botA1.username, status: 'connected' })
    // The other instance runs it too (standing by: one poller per bot).
    await waitFor(() => second.bots.status(spaceA)?.state === 'connected', 'the second instance to run the bot').catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(second.bots.statuses())}`)
    })
    const health = (await (await fetch(`${base}/health`)).json()) as { bot: Record<string, { state: string; username: string }> }
    expect(health.bot[spaceA]).toMatchObject({ state: 'connected', username: botA1.username, source: 'stored' })
    expect(JSON.stringify(health)).not.toContain(botA1.token.split(':')[1])
  })

  it('two spaces with two bots answer independently, each with its own content', async () => {
    expect((await api('PUT', `/api/spaces/${spaceB}/bot`, owner, { token: botB.token })).status).toBe(200)
    await answersStart(fakes.get(botB.token)!, { id: 9002, first_name: 'Ben' }, 'Welcome to B')
    await answersStart(fakes.get(botA1.token)!, { id: 9003, first_name: 'Cid' }, 'Welcome to A')
    // One bot, one space: two spaces polling one token would take each other's updates.
    const taken = await api('PUT', `/api/spaces/${spaceB}/bot`, owner, { token: botA1.token })
    expect(taken.status).toBe(409)
    expect(((await taken.json()) as { error: string }).error).toBe('bot-in-use')
    expect(await botOf(spaceB)).toMatchObject({ username: botB.username })
  })

  it('verifies a Mini App reader of a space with that space’s bot token only', async () => {
    const me = (space: string, token: string) => fetch(`${base}/api/miniapp/me?space=${space}`, { headers: { authorization: `tma ${signInitData(token)}` } })
    const ok = await me(spaceA, botA1.token)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ principal: { kind: 'reader', space: spaceA }, document: `${spaceA}/public` })
    const other = await me(spaceA, botB.token)
    expect(other.status).toBe(401)
    expect(await other.json()).toMatchObject({ error: 'init-data-invalid-signature' })
    expect(await (await me(uniqueSpace(), botA1.token)).json()).toMatchObject({ error: 'miniapp-disabled' })
    // On the reader gateway, the space is the document's.
    const reader = connect(readersUrlOf(server), docName.public(spaceB), signInitData(botB.token))
    clients.push(reader)
    await synced(reader)
    const wrong = connect(readersUrlOf(server), docName.public(spaceB), signInitData(botA1.token))
    clients.push(wrong)
    expect(await wrong.authFailure).toBe('init-data-invalid-signature')
  })

  it('tells anyone which bot a space’s Mini App belongs to, and nothing about a space without one', async () => {
    const bot = (query: string) => fetch(`${base}/api/miniapp/bot${query}`)
    const answer = await bot(`?space=${spaceA}`)
    expect(answer.status).toBe(200)
    expect(await answer.json()).toEqual({ username: botA1.username })
    // A space that does not exist and BOT_SPACE (no ?space=), which has no bot here, answer alike.
    for (const query of [`?space=${uniqueSpace()}`, '']) {
      const none = await bot(query)
      expect(none.status).toBe(404)
      expect(await none.json()).toMatchObject({ error: 'no-bot' })
    }
    expect((await bot('?space=Not%20a%20space')).status).toBe(400)
  })

  it('reports each bot’s activity to its own space (with its own token)', async () => {
    // Read where the answering bot reports: the instance that polls (these two share no Redis, so no fan-out).
    const activity = (space: string) => {
      const poller = [server, second].find((instance) => instance.bots.status(space)?.role === 'poller')!
      const client = connect(wsUrlOf(poller), docName.activity(space), owner)
      clients.push(client)
      return client
    }
    const a = activity(spaceA)
    const b = activity(spaceB)
    await synced(a)
    await synced(b)
    const events = (client: TestClient) => projectActivity(client.doc).events.length
    await waitFor(() => events(a) > 0 && events(b) > 0, 'both spaces to show their bot’s activity')
  })

  it('gives each bot a /collab token for its own space only', async () => {
    const own = connect(wsUrlOf(server), docName.settings(spaceA), spaceServiceToken(BOT_TOKEN, spaceA))
    clients.push(own)
    await synced(own)
    const across = connect(wsUrlOf(server), docName.settings(spaceB), spaceServiceToken(BOT_TOKEN, spaceA))
    clients.push(across)
    expect(await across.authFailure).toBe('forbidden-space')
    const forged = connect(wsUrlOf(server), docName.settings(spaceB), spaceServiceToken('another deployment', spaceB))
    clients.push(forged)
    expect(await forged.authFailure).toBe('invalid-token')
  })

  it('restarts the bot when the token changes: the old bot stops polling, the new one answers', async () => {
    const old = fakes.get(botA1.token)!
    expect((await api('PUT', `/api/spaces/${spaceA}/bot`, owner, { token: botA2.token })).status).toBe(200)
    await answersStart(fakes.get(botA2.token)!, { id: 9004, first_name: 'Dee' }, 'Welcome to A')
    await server.bots.settled()
    await second.bots.settled()
    const since = old.mark()
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(pollsSince(old, since)).toBe(0)
    expect(await botOf(spaceA)).toMatchObject({ configured: true, username: botA2.username })
  })

  it('shows Telegram’s error when it refuses the running bot (token revoked → failing, Unauthorized)', async () => {
    // The instance that polls sees the refusal at once (a standby sees it at its next getMe check, every 30 s).
    const poller = [server, second].find((instance) => instance.bots.status(spaceB)?.role === 'poller')!
    expect(poller).toBeDefined()
    const viaPoller = async () =>
      (await (await fetch(`http://127.0.0.1:${poller.port}/api/spaces/${spaceB}/bot`, { headers: { authorization: `Bearer ${owner}` } })).json()) as Record<string, unknown>
    fakes.get(botB.token)!.revoke()
    await waitFor(async () => (await viaPoller()).status === 'failing', 'the status to turn failing', 15_000)
    expect(await viaPoller()).toEqual({ configured: true, username: botB.username, status: 'failing', error: 'Unauthorized' })
  })

  it('stops the bot when its token is removed, on every instance', async () => {
    const bot = fakes.get(botA2.token)!
    const removed = await api('DELETE', `/api/spaces/${spaceA}/bot`, owner)
    expect(removed.status).toBe(204)
    await waitFor(() => server.bots.status(spaceA) === undefined && second.bots.status(spaceA) === undefined, 'both instances to stop the bot')
    await server.bots.settled()
    await second.bots.settled()
    const since = bot.mark()
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(pollsSince(bot, since)).toBe(0)
    expect(await botOf(spaceA)).toEqual({ configured: false })
    // Its Mini App readers go with it.
    const me = await fetch(`${base}/api/miniapp/me?space=${spaceA}`, { headers: { authorization: `tma ${signInitData(botA2.token)}` } })
    expect(await me.json()).toMatchObject({ error: 'miniapp-disabled' })
  })
})

describe('the bootstrap bot (TELEGRAM_BOT_TOKEN + BOT_SPACE)', () => {
  const telegram = new FakeTelegram()
  let server: BotsyncServer
  const space = uniqueSpace()
  const bootstrap = { token: tokenFor(7201), username: 'bootstrap_bot' }
  const stored = { token: tokenFor(7202), username: 'stored_bot' }
  const fakes = new Map<string, FakeBotApi>()

  beforeAll(async () => {
    await telegram.start()
    for (const bot of [bootstrap, stored]) fakes.set(bot.token, telegram.bot({ token: bot.token, botUsername: bot.username }))
    server = await startServer({ TELEGRAM_API_ROOT: telegram.apiRoot, BOT_SPACE: space, TELEGRAM_BOT_TOKEN: bootstrap.token })
    await server.writer.change(docName.settings(space), (doc) => {
      initSettingsDoc(doc)
      setSettingsText(doc, 'welcome', 'Welcome to the bootstrap space')
    })
    await startEmbeddedBot(server)
  }, 30_000)
  afterAll(async () => {
    await server?.stop()
    await telegram.stop()
  })

  const answers = async (token: string, id: number) => {
    const bot = fakes.get(token)!
    const since = bot.mark()
    bot.sendCommand({ id, first_name: 'Eve' }, 'start')
    return (await bot.nextMessageTo(id, { since, timeoutMs: 15_000 })).message?.text
  }

  it('runs for BOT_SPACE, gives way to a bot set for that space in the admin, and comes back when it is removed', async () => {
    expect(await answers(bootstrap.token, 9101)).toBe('Welcome to the bootstrap space')
    expect(server.bots.status(space)).toMatchObject({ state: 'connected', source: 'bootstrap', username: bootstrap.username })
    const owner = await userToken(server, 'owner', space)
    const headers = { authorization: `Bearer ${owner}`, 'content-type': 'application/json' }
    const base = `http://127.0.0.1:${server.port}/api/spaces/${space}/bot`
    expect((await fetch(base, { method: 'PUT', headers, body: JSON.stringify({ token: stored.token }) })).status).toBe(200)
    expect(await answers(stored.token, 9102)).toBe('Welcome to the bootstrap space')
    await server.bots.settled()
    expect(server.bots.status(space)).toMatchObject({ source: 'stored', username: stored.username })
    // The bootstrap bot stopped polling.
    const since = fakes.get(bootstrap.token)!.mark()
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(
      fakes
        .get(bootstrap.token)!
        .calls.slice(since)
        .filter((call) => call.method === 'getUpdates'),
    ).toEqual([])
    expect((await fetch(base, { method: 'DELETE', headers })).status).toBe(204)
    await waitFor(() => server.bots.status(space)?.source === 'bootstrap', 'the bootstrap bot to come back')
    expect(await answers(bootstrap.token, 9103)).toBe('Welcome to the bootstrap space')
  })
})

describe('a space bot’s token in the logs', () => {
  it('never appears in the server’s output (debug level), set, running, refused or removed', async () => {
    const telegram = new FakeTelegram()
    await telegram.start()
    const bot = { token: tokenFor(7301), username: 'logged_bot' }
    const fake = telegram.bot({ token: bot.token, botUsername: bot.username })
    const email = `owner-${uniqueSpace()}@test.local`
    const space = uniqueSpace()
    const server = await spawnServer({ TELEGRAM_API_ROOT: telegram.apiRoot, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'correct horse', LOG_LEVEL: 'debug', BOT_SPACE: uniqueSpace() })
    try {
      await joinSpace(email, space)
      const owner = await login(server.url, email, 'correct horse')
      const headers = { authorization: `Bearer ${owner}`, 'content-type': 'application/json' }
      const url = `${server.url}/api/spaces/${space}/bot`
      expect((await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ token: bot.token }) })).status).toBe(200)
      const since = fake.mark()
      fake.sendCommand({ id: 9201, first_name: 'Liv' }, 'start')
      await fake.nextMessageTo(9201, { since, timeoutMs: 15_000 })
      fake.revoke()
      await waitFor(async () => ((await (await fetch(url, { headers })).json()) as { status?: string }).status === 'failing', 'the bot to fail', 15_000)
      expect((await fetch(url, { method: 'DELETE', headers })).status).toBe(204)
      await waitFor(() => server.output.some((line) => line.includes('"space-bot-stopped"')), 'the bot to stop')
      const secret = bot.token.split(':')[1]
      expect(server.output.some((line) => line.includes('"space-bot-set"') && line.includes(bot.username))).toBe(true)
      expect(server.output.filter((line) => line.includes(secret))).toEqual([])
    } finally {
      await server.stop()
      await telegram.stop()
    }
  }, 60_000)
})

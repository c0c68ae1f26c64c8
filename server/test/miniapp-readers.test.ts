import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  createScenario,
  docName,
  initSettingsDoc,
  projectPublicContent,
  projectSettings,
  setButton,
  setMainMenu,
  setSettingsText,
  setTextPublic,
  updateScenario,
} from '@botsync/shared-docs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { TelegramInitData } from '../src/auth/telegram-init-data.ts'
import { apiRequest, connect, memberOf, readersUrlOf, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'
import { signInitData } from '@botsync/testkit/init-data'

const TELEGRAM_TOKEN = `123456:test-${uniqueSpace()}`

describe('Mini App readers', () => {
  let server: BotsyncServer
  let base: string
  let ws: string
  let readersUrl: string
  let space: string
  let editor: string
  const clients: TestClient[] = []
  /** An admin's (or the bot's) provider on /collab. */
  const open = (name: string, token: string): TestClient => {
    const client = connect(ws, name, token)
    clients.push(client)
    return client
  }
  /** A Mini App reader's provider on /readers, the reader gateway. */
  const openReader = (name: string, token: string): TestClient => {
    const client = connect(readersUrl, name, token)
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    space = uniqueSpace()
    // A short grace so the test of content unpublished while nobody reads sees the document unload.
    server = await startServer({ TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, BOT_SPACE: space, MINIAPP_MAX_AGE: '600', READER_DOCUMENT_GRACE_MS: '100' })
    base = `http://127.0.0.1:${server.port}`
    ws = wsUrlOf(server)
    readersUrl = readersUrlOf(server)
    editor = await userToken(server, 'editor', space)
    // Content is seeded on the server, as in production.
    await server.writer.change(docName.settings(space), (doc) => {
      initSettingsDoc(doc)
      setSettingsText(doc, 'welcome', 'Welcome, reader')
      setSettingsText(doc, 'maintenance', 'internal maintenance note')
      setTextPublic(doc, 'welcome', true)
      setMainMenu(doc, [['to_faq', 'to_staff']])
    })
    await server.writer.change(docName.buttons(space), (doc) => {
      setButton(doc, 'to_faq', { text: 'Questions', action: { type: 'goto', scenarioId: 'faq' } })
      setButton(doc, 'to_staff', { text: 'Staff', action: { type: 'goto', scenarioId: 'staff' } })
    })
    const faq = new Y.Doc()
    const staff = new Y.Doc()
    const index = new Y.Doc()
    createScenario(index, faq, { id: 'faq', title: 'FAQ', firstStep: { message: 'How do I order?' } })
    createScenario(index, staff, { id: 'staff', title: 'Staff only', firstStep: { message: 'secret staff flow' } })
    updateScenario(index, 'faq', { public: true })
    await server.writer.change(docName.scenario(space, 'faq'), (doc) => Y.applyUpdate(doc, Y.encodeStateAsUpdate(faq)))
    await server.writer.change(docName.scenario(space, 'staff'), (doc) => Y.applyUpdate(doc, Y.encodeStateAsUpdate(staff)))
    await server.writer.change(docName.scenarios(space), (doc) => Y.applyUpdate(doc, Y.encodeStateAsUpdate(index)))
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
  })

  it('validates initData: signature, freshness and user', () => {
    const validator = new TelegramInitData(TELEGRAM_TOKEN, 600)
    const now = Math.floor(Date.now() / 1000)
    expect(validator.validate(signInitData(TELEGRAM_TOKEN, { auth_date: now }), now)).toMatchObject({ userId: 4242, firstName: 'Rita', username: 'rita', authDate: now })
    expect(() => validator.validate(signInitData(TELEGRAM_TOKEN, { auth_date: now - 601 }), now)).toThrow(/init-data-expired/)
    expect(() => validator.validate(signInitData('999:other-bot', { auth_date: now }), now)).toThrow(/init-data-invalid-signature/)
    // Changing any signed field (here: the user id) breaks the signature.
    const forged = signInitData(TELEGRAM_TOKEN, { auth_date: now }).replace('%22id%22%3A4242', '%22id%22%3A1')
    expect(forged).not.toBe(signInitData(TELEGRAM_TOKEN, { auth_date: now }))
    expect(() => validator.validate(forged, now)).toThrow(/init-data-invalid-signature/)
    expect(() => validator.validate('auth_date=1&user=%7B%7D', now)).toThrow(/init-data-missing-hash/)
    expect(() => validator.validate(`auth_date=${now}&hash=abc`, now)).toThrow(/init-data-invalid-signature/)
  })

  it('lets a valid reader read the public document live, and nothing private', async () => {
    const reader = openReader(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await synced(reader)
    const content = () => projectPublicContent(reader.doc)
    expect(content().texts).toEqual({ welcome: 'Welcome, reader' })
    expect(content().scenarios.map((s) => [s.id, s.steps.map((step) => step.message)])).toEqual([['faq', ['How do I order?']]])
    // The main menu shows only the button to the public scenario.
    expect(content().menu).toEqual([[{ text: 'Questions', scenarioId: 'faq' }]])
    const everything = JSON.stringify(reader.doc.toJSON())
    expect(everything).not.toContain('internal maintenance note')
    expect(everything).not.toContain('secret staff flow')

    // An admin's edit of a public text reaches the reader.
    const admin = open(docName.settings(space), editor)
    await synced(admin)
    setSettingsText(admin.doc, 'welcome', 'Welcome, dear reader')
    await waitFor(() => content().texts.welcome === 'Welcome, dear reader', 'the reader to see the edited text')

    // Publishing a scenario adds it with its content; unpublishing removes it.
    const index = open(docName.scenarios(space), editor)
    await synced(index)
    updateScenario(index.doc, 'staff', { public: true })
    await waitFor(() => content().scenarios.some((s) => s.id === 'staff' && s.steps[0]?.message === 'secret staff flow'), 'the newly public scenario')
    await waitFor(() => content().menu[0]?.length === 2, 'its menu button')
    updateScenario(index.doc, 'staff', { public: false })
    updateScenario(index.doc, 'faq', { public: false })
    await waitFor(() => content().scenarios.length === 0, 'unpublished scenarios to disappear')
    // Making a text private removes it too.
    setTextPublic(admin.doc, 'welcome', false)
    await waitFor(() => Object.keys(content().texts).length === 0, 'the private text to disappear')
    updateScenario(index.doc, 'faq', { public: true })
    setTextPublic(admin.doc, 'welcome', true)
    await waitFor(() => content().scenarios.length === 1 && content().texts.welcome !== undefined, 'republished content')
  })

  const refusals: Array<[string, () => string, string]> = [
    ['a tampered hash', () => signInitData(TELEGRAM_TOKEN).replace(/hash=([0-9a-f])/, (_, c) => `hash=${c === '0' ? '1' : '0'}`), 'init-data-invalid-signature'],
    ['an expired auth_date', () => signInitData(TELEGRAM_TOKEN, { auth_date: Math.floor(Date.now() / 1000) - 3600 }), 'init-data-expired'],
    ["another bot's token", () => signInitData('654321:another-bot'), 'init-data-invalid-signature'],
    ['a missing hash', () => `tma ${signInitData(TELEGRAM_TOKEN).replace(/&?hash=[0-9a-f]+/, '')}`, 'init-data-missing-hash'],
  ]
  for (const [label, makeToken, reason] of refusals) {
    it(`refuses ${label} with reason ${reason}, on the WebSocket and over HTTP`, async () => {
      const token = makeToken()
      const client = openReader(docName.public(space), token)
      expect(await client.authFailure).toBe(reason)
      const initData = token.startsWith('tma ') ? token.slice(4) : token
      const response = await fetch(`${base}/api/miniapp/me`, { headers: { authorization: `tma ${initData}` } })
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ error: reason })
    })
  }

  it('identifies a reader over HTTP with Authorization: tma', async () => {
    const response = await fetch(`${base}/api/miniapp/me`, { headers: { authorization: `tma ${signInitData(TELEGRAM_TOKEN)}` } })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      principal: { kind: 'reader', role: 'reader', space, telegramUserId: 4242, name: 'Rita' },
      document: `${space}/public`,
    })
  })

  it('refuses readers on every other document', async () => {
    for (const name of [docName.settings(space), docName.scenarios(space), docName.scenario(space, 'faq'), docName.activity(space)]) {
      const client = openReader(name, signInitData(TELEGRAM_TOKEN))
      expect(await client.authFailure).toBe('forbidden-document')
    }
    // Another space's public document: that space's bot would have to sign the initData, and it has none.
    expect(await openReader(docName.public(uniqueSpace()), signInitData(TELEGRAM_TOKEN)).authFailure).toBe('miniapp-disabled')
  })

  it('keeps readers and admins on their own endpoints', async () => {
    // Reader initData on /collab: sent to the reader gateway.
    expect(await open(docName.public(space), signInitData(TELEGRAM_TOKEN)).authFailure).toBe('use-readers-endpoint')
    // An admin token on /readers: not a reader (admins read the public document on /collab).
    expect(await openReader(docName.public(space), editor).authFailure).toBe('not-a-reader')
    expect(await openReader(docName.public(space), '').authFailure).toBe('missing-token')
  })

  it('refuses a reader’s writes and keeps the public document server-written', async () => {
    const reader = openReader(docName.public(space), `tma ${signInitData(TELEGRAM_TOKEN)}`)
    await synced(reader)
    reader.doc.getMap('public').set('texts', new Y.Map())
    await waitFor(() => reader.stateless.some((s) => s.includes('"reason":"read-only"')), 'the read-only refusal')
    const fresh = openReader(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await synced(fresh)
    expect(projectPublicContent(fresh.doc).texts.welcome).toBeDefined()
    // Admins cannot write it either: only the server does.
    const admin = open(docName.public(space), editor)
    await synced(admin)
    admin.doc.getMap('public').delete('scenarios')
    await waitFor(() => admin.stateless.some((s) => s.includes('"reason":"read-only"')), 'the admin read-only refusal')
  })

  it('never serves content unpublished while nobody was reading', async () => {
    // The stored public document holds the published scenario and text …
    const earlier = openReader(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await waitFor(() => projectPublicContent(earlier.doc).scenarios.length === 1 && projectPublicContent(earlier.doc).texts.welcome !== undefined, 'the published content')
    // … then every reader leaves, and both are unpublished.
    for (const client of clients.splice(0)) client.destroy()
    const hocuspocus = server.server.hocuspocus
    await waitFor(() => !hocuspocus.documents.has(docName.public(space)), 'the public document to unload')
    await server.writer.change(docName.scenarios(space), (doc) => updateScenario(doc, 'faq', { public: false }))
    await server.writer.change(docName.settings(space), (doc) => setTextPublic(doc, 'welcome', false))
    const reader = openReader(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await synced(reader)
    // The very first state the reader gets is already up to date.
    expect(projectPublicContent(reader.doc)).toEqual({ texts: {}, scenarios: [], menu: [] })
    await server.writer.change(docName.scenarios(space), (doc) => updateScenario(doc, 'faq', { public: true }))
    await server.writer.change(docName.settings(space), (doc) => setTextPublic(doc, 'welcome', true))
    await waitFor(() => projectPublicContent(reader.doc).scenarios.length === 1, 'the republished scenario')
  })

  it('does not show a reader’s presence to admins', async () => {
    const adminA = open(docName.public(space), editor)
    const adminB = open(docName.public(space), editor)
    const reader = openReader(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await Promise.all([synced(adminA), synced(adminB), synced(reader)])
    reader.provider.setAwarenessField('user', { name: 'Reader Rita' })
    adminB.provider.setAwarenessField('user', { name: 'Admin Ben' })
    const names = () => [...adminA.provider.awareness!.getStates().values()].map((state) => state.user?.name)
    // The other admin's presence arrives (so the channel works) …
    await waitFor(() => names().includes('Admin Ben'), 'the other admin’s presence')
    // … and a later reader update still does not.
    reader.provider.setAwarenessField('user', { name: 'Reader Rita again' })
    adminB.provider.setAwarenessField('cursor', 1)
    await waitFor(() => [...adminA.provider.awareness!.getStates().values()].some((s) => s.cursor === 1), 'a later admin update')
    expect(names()).not.toContain('Reader Rita')
    expect(names()).not.toContain('Reader Rita again')
  })

  it('in review mode shows readers the current release, never the drafts, and the next release once published', async () => {
    const owner = await memberOf(server, space, 'owner')
    const reader = openReader(docName.public(space), signInitData(TELEGRAM_TOKEN))
    await synced(reader)
    const welcome = () => projectPublicContent(reader.doc).texts.welcome
    const before = welcome()
    expect(before).toBeDefined()
    expect((await apiRequest(server, 'PUT', `/api/spaces/${space}/publish-mode`, owner.token, { mode: 'review' })).status).toBe(200)

    const admin = open(docName.settings(space), editor)
    await synced(admin)
    setSettingsText(admin.doc, 'welcome', 'A half-typed draft welc')
    // The draft is stored (the bot's replica would have it) and the reader still sees the release.
    const stored = async (): Promise<string | undefined> => {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, (await server.writer.read(docName.settings(space)))!)
      return projectSettings(doc).texts.welcome
    }
    await waitFor(async () => (await stored()) === 'A half-typed draft welc', 'the draft to be stored')
    // Time for a projection of the drafts to reach the reader, were there one.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(welcome()).toBe(before)

    expect((await apiRequest(server, 'POST', `/api/spaces/${space}/releases`, owner.token, {})).status).toBe(201)
    await waitFor(() => welcome() === 'A half-typed draft welc', 'the reader to see the new release')

    // Live again: the drafts, as before.
    await apiRequest(server, 'PUT', `/api/spaces/${space}/publish-mode`, owner.token, { mode: 'live' })
    setSettingsText(admin.doc, 'welcome', 'Welcome, live reader')
    await waitFor(() => welcome() === 'Welcome, live reader', 'the reader to follow the drafts in live mode')
  })
})

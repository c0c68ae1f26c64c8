import { randomUUID } from 'node:crypto'
import { validateSpace, type SpaceJson } from '@botsync/shared-docs'
import { afterAll, describe, expect, it } from 'vitest'
import { validateAnswer } from '../src/runner/answer-validation.ts'
import { fillTemplate } from '../src/runner/message-template.ts'
import { normaliseUserState } from '../src/runner/user-state.ts'
import { miniAppBase, miniAppUrlForSpace, resolveWebAppUrl, webAppProblems } from '../src/runner/web-app-urls.ts'
import { PgPoolClient } from '../src/session/pg-pool-client.ts'
import { PgSessionStore } from '../src/session/pg-session-store.ts'
import { DATABASE_URL } from './helpers.ts'

describe('answers of input steps', () => {
  it('accepts and normalises valid answers of each kind', () => {
    expect(validateAnswer('text', '  Alice ')).toBe('Alice')
    expect(validateAnswer('number', '3,5')).toBe('3.5')
    expect(validateAnswer('number', '-12')).toBe('-12')
    expect(validateAnswer('email', 'a.b@example.co.uk')).toBe('a.b@example.co.uk')
    expect(validateAnswer('phone', '+49 (30) 123-4567')).toBe('+49301234567')
  })

  it('refuses what does not fit', () => {
    expect(validateAnswer('text', '   ')).toBeNull()
    expect(validateAnswer('text', 'x'.repeat(1001))).toBeNull()
    expect(validateAnswer('number', '12 apples')).toBeNull()
    expect(validateAnswer('email', 'not-an-email')).toBeNull()
    expect(validateAnswer('email', 'a@localhost')).toBeNull()
    expect(validateAnswer('phone', '12')).toBeNull()
  })
})

describe('message templates', () => {
  it('fills known variables and leaves unknown placeholders visible', () => {
    expect(fillTemplate('Hi {name}, you are {age}. {unknown}', { name: 'Ann', age: '30' })).toBe('Hi Ann, you are 30. {unknown}')
    expect(fillTemplate('{__proto__}', {})).toBe('{__proto__}')
  })

  it('cuts a message that answers made too long to Telegram’s limit', () => {
    const text = fillTemplate('{a}{a}{a}{a}{a}', { a: 'x'.repeat(1000) })
    expect(text).toHaveLength(4096)
    expect(text.endsWith('…')).toBe(true)
  })
})

describe('user state', () => {
  it('reads whatever was stored into the current shape', () => {
    expect(normaliseUserState(undefined)).toEqual({ scenarioId: null, stepId: null, vars: {}, history: [] })
    expect(normaliseUserState({ scenarioId: 's', stepId: 'x', vars: { a: 'b', n: 3 }, history: [{ scenarioId: 's', stepId: 'y' }, 'junk'] })).toEqual({
      scenarioId: 's',
      stepId: 'x',
      vars: { a: 'b' },
      history: [{ scenarioId: 's', stepId: 'y' }],
    })
    expect(normaliseUserState({ scenarioId: 's' })).toMatchObject({ scenarioId: null, stepId: null })
  })
})

describe('web_app URLs', () => {
  it('resolves a page of the Mini App against MINIAPP_URL and sends absolute URLs as written', () => {
    const base = miniAppBase('https://bots.example.com/app/miniapp?x=1')
    expect(resolveWebAppUrl('/miniapp#faq', base)).toBe('https://bots.example.com/miniapp#faq')
    expect(resolveWebAppUrl('miniapp?startapp=x', base)).toBe('https://bots.example.com/app/miniapp?startapp=x')
    expect(resolveWebAppUrl('../faq', base)).toBe('https://bots.example.com/faq')
    // Not normalised: what the editor wrote is what Telegram gets.
    expect(resolveWebAppUrl('https://Other.example.com', base)).toBe('https://Other.example.com')
    expect(resolveWebAppUrl('https://Other.example.com', miniAppBase(undefined))).toBe('https://Other.example.com')
  })

  it('keeps the space of a bot per space (?space=) on every page of its Mini App, and on no other site', () => {
    const url = miniAppUrlForSpace('https://bots.example.com/app/miniapp.html', 'shop')
    expect(url).toBe('https://bots.example.com/app/miniapp.html?space=shop')
    const base = miniAppBase(url)
    expect(resolveWebAppUrl('/miniapp#faq', base)).toBe('https://bots.example.com/miniapp?space=shop#faq')
    expect(resolveWebAppUrl('#faq', base)).toBe('https://bots.example.com/app/miniapp.html?space=shop#faq')
    expect(resolveWebAppUrl('miniapp.html?space=other', base)).toBe('https://bots.example.com/app/miniapp.html?space=other')
    expect(resolveWebAppUrl('https://other.example.com/page', base)).toBe('https://other.example.com/page')
  })

  it('has no base for relative URLs without an https MINIAPP_URL', () => {
    expect(miniAppBase(undefined)).toEqual({ unusable: 'MINIAPP_URL is not set' })
    expect(miniAppBase('')).toEqual({ unusable: 'MINIAPP_URL is not set' })
    expect(miniAppBase('bots.example.com/miniapp')).toEqual({ unusable: 'MINIAPP_URL is not a valid URL' })
    expect(miniAppBase('http://bots.example.com/miniapp')).toEqual({ unusable: 'MINIAPP_URL is not an https URL' })
    expect(resolveWebAppUrl('/miniapp', miniAppBase('http://bots.example.com/miniapp'))).toBeNull()
  })

  it('reports the relative web_app buttons a bot without a base cannot send, once each', () => {
    const space: SpaceJson = {
      settings: { texts: { welcome: 'Hi', fallback: 'Sorry', maintenance: 'Later', inputInvalid: 'Again' }, flags: { botEnabled: true }, mainMenu: [], publicTexts: [] },
      buttons: {
        page: { id: 'page', text: 'Page', action: { type: 'web_app', url: '/miniapp' } },
        site: { id: 'site', text: 'Site', action: { type: 'web_app', url: 'https://example.com/app' } },
        // Already reported by validation (empty label); not reported twice.
        broken: { id: 'broken', text: ' ', action: { type: 'web_app', url: '/miniapp' } },
      },
      scenarios: {},
      scenarioDocs: {},
    }
    const problems = validateSpace(space)
    expect(problems.map((p) => p.path.join('/'))).toEqual(['buttons/broken/text'])
    expect(webAppProblems(space, problems, miniAppBase('https://bots.example.com/miniapp'))).toEqual([])
    expect(webAppProblems(space, problems, miniAppBase('http://bots.example.com/miniapp'))).toEqual([
      {
        document: 'buttons',
        path: ['buttons', 'page', 'action', 'url'],
        code: 'web-app-url-needs-miniapp-url',
        message: "Button opens a page of the bot's Mini App, but MINIAPP_URL is not an https URL; set it to the Mini App's https address, or give the button an https:// URL.",
      },
    ])
  })
})

describe('PgSessionStore', () => {
  const db = new PgPoolClient(DATABASE_URL)
  afterAll(() => db.close())

  it('stores, reads and deletes sessions per space', async () => {
    const spaceA = `s${randomUUID().slice(0, 8)}`
    const spaceB = `s${randomUUID().slice(0, 8)}`
    const a = new PgSessionStore<{ step: string }>(db, spaceA)
    const b = new PgSessionStore<{ step: string }>(db, spaceB)
    expect(await a.get('1:1')).toBeUndefined()
    await a.set('1:1', { step: 'one' })
    await a.set('1:1', { step: 'two' })
    await b.set('1:1', { step: 'other space' })
    expect(await a.get('1:1')).toEqual({ step: 'two' })
    expect(await b.get('1:1')).toEqual({ step: 'other space' })
    // What a restarted bot reads: the database, not this store's memory.
    expect(await new PgSessionStore(db, spaceA).get('1:1')).toEqual({ step: 'two' })
    const stored = await db.query<{ value: unknown }>('SELECT value FROM bot_sessions WHERE space = $1 AND key = $2', [spaceA, '1:1'])
    expect(stored).toEqual([{ value: { step: 'two' } }])
    await a.delete('1:1')
    expect(await a.get('1:1')).toBeUndefined()
    expect(await new PgSessionStore(db, spaceA).get('1:1')).toBeUndefined()
    expect(await b.get('1:1')).toEqual({ step: 'other space' })
  })

  it('hands out copies, so changing a read session does not change the stored one', async () => {
    const store = new PgSessionStore<{ step: string }>(db, `s${randomUUID().slice(0, 8)}`)
    await store.set('k', { step: 'saved' })
    const read = (await store.get('k'))!
    read.step = 'changed without set'
    expect(await store.get('k')).toEqual({ step: 'saved' })
  })

  it('bots creating the table at the same moment all start', async () => {
    // A schema of its own, so the table really is created here, concurrently.
    const schema = `bs_${randomUUID().replaceAll('-', '')}`
    await db.query(`CREATE SCHEMA ${schema}`)
    const url = new URL(DATABASE_URL)
    url.searchParams.set('options', `-c search_path=${schema}`)
    const pools = Array.from({ length: 6 }, () => new PgPoolClient(url.toString()))
    try {
      const stores = pools.map((pool) => new PgSessionStore<{ n: number }>(pool, 'race'))
      await Promise.all(stores.map((store) => store.init()))
      await stores[0].set('k', { n: 1 })
      expect(await stores[5].get('k')).toEqual({ n: 1 })
      expect(await db.query(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'bot_sessions'`, [schema])).toHaveLength(1)
    } finally {
      await Promise.all(pools.map((pool) => pool.close()))
      await db.query(`DROP SCHEMA ${schema} CASCADE`)
    }
  })
})

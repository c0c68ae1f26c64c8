// What every end-to-end test needs: the real server (in-process, real
// PostgreSQL) serving the built admin, Debian's Chromium, admins logged in
// through the login form, and a switch to cut one admin's WebSocket.
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { demoSeed, projectScenario } from '@botsync/shared-docs'
import type { Browser, BrowserContext, Locator, Page, WebSocketRoute } from 'playwright-core'
import { launchChromium, logInThroughForm } from '@botsync/testkit/browser'
import * as Y from 'yjs'
import type { BotsyncServer } from '@botsync/server'
import { FakeTelegram, type FakeBotApi, type RecordedCall } from '@botsync/testkit/fake-bot-api'
import { startServer, uniqueSpace } from '@botsync/testkit/server'

export interface Admin {
  userId: string
  name: string
  email: string
  password: string
  context: BrowserContext
  page: Page
  /** Closes this admin's WebSockets and refuses new ones, like a lost network. */
  cutWebSocket(): Promise<void>
  /** Lets WebSockets through again (the page reconnects on its own or on `online`). */
  restoreWebSocket(): void
}

export class E2eApp {
  /** Every instance (see `start`'s `instances`), on one database (and one Redis when REDIS_URL is set). */
  readonly servers: BotsyncServer[]
  readonly browser: Browser
  readonly baseUrl: string
  readonly #contexts: BrowserContext[] = []
  readonly #env: Record<string, string>
  /** Uncaught errors and Content-Security-Policy violations in any page; tests fail on them (see assertNoPageErrors). */
  readonly pageErrors: string[] = []

  private constructor(servers: BotsyncServer[], browser: Browser, env: Record<string, string>) {
    this.servers = servers
    this.browser = browser
    this.#env = env
    this.baseUrl = `http://127.0.0.1:${this.server.port}`
  }

  /** The first instance; `baseUrl` is its address (also after `restartServer`). */
  get server(): BotsyncServer {
    return this.servers[0]
  }

  /** Stops the first instance, as in an outage; `restartServer` brings it back on the same port. */
  async stopServer(): Promise<void> {
    await this.server.stop()
  }

  /** The first instance again, on its old port (so the pages' origin, service worker and storage stay), on the same database. */
  async restartServer(): Promise<void> {
    await this.server.stop()
    this.servers[0] = await startServer({ ...this.#env, PORT: new URL(this.baseUrl).port })
  }

  /**
   * `env` adds server configuration (e.g. TELEGRAM_BOT_TOKEN for the Mini App,
   * or REDIS_URL + REDIS_PREFIX to join `instances` through Redis as in production).
   */
  static async start(env: Record<string, string> = {}, options: { instances?: number } = {}): Promise<E2eApp> {
    const servers: BotsyncServer[] = []
    try {
      for (let i = 0; i < (options.instances ?? 1); i++) servers.push(await startServer(env))
      const browser = await launchChromium()
      return new E2eApp(servers, browser, env)
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()))
      throw error
    }
  }

  /** The address of instance `index` (0 is `baseUrl`). */
  urlOf(index: number): string {
    return `http://127.0.0.1:${this.servers[index].port}`
  }

  /** A new space holding the demo content, seeded on the server as in production. */
  async seedSpace(space = uniqueSpace()): Promise<string> {
    await this.server.spaces.ensure(space)
    for (const [name, update] of demoSeed(space)) await this.server.store.append(name, update)
    return space
  }

  /** A user with `role`, logged in through the form in a fresh browser context. */
  /** `uplinkDelayMs` holds back what the page sends on its WebSocket (a slow uplink: edits are still in flight when the server changes something). */
  async admin(
    name: string,
    options: { role?: 'owner' | 'editor' | 'viewer'; space: string; viewport?: { width: number; height: number }; uplinkDelayMs?: number },
  ): Promise<Admin> {
    const email = `${name.toLowerCase()}-${randomUUID()}@test.local`
    const password = `pw-${randomUUID()}`
    const user = await this.server.users.create({ email, name, password })
    // Roles are per space: a member of the space this admin works in.
    await this.server.spaces.ensure(options.space)
    await this.server.members.add(options.space, user.id, options.role ?? 'editor')
    const context = await this.browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 800 } })
    this.#contexts.push(context)
    await this.#watchPolicy(context, name)
    let cut = false
    const routes = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>()
    await context.routeWebSocket(/\/collab$/, (ws) => {
      if (cut) {
        void ws.close({ code: 1006, reason: 'network cut by the test' }).catch(() => {})
        return
      }
      const server = ws.connectToServer()
      const delay = options.uplinkDelayMs ?? 0
      if (delay > 0) {
        // In order, each message `delay` ms after the page sent it.
        let last = 0
        ws.onMessage((message) => {
          const at = Math.max(Date.now() + delay, last)
          last = at
          setTimeout(() => {
            if (routes.has(pair)) server.send(message)
          }, at - Date.now())
        })
      }
      const pair = { page: ws, server }
      routes.add(pair)
      ws.onClose(() => {
        routes.delete(pair)
        void server.close().catch(() => {})
      })
      server.onClose(() => {
        routes.delete(pair)
        void ws.close().catch(() => {})
      })
    })
    const page = await context.newPage()
    page.on('pageerror', (error) => this.pageErrors.push(`[${name}] ${error.stack ?? error.message}`))
    await logInThroughForm(page, this.baseUrl, options.space, email, password)
    return {
      userId: user.id,
      name,
      email,
      password,
      context,
      page,
      async cutWebSocket() {
        cut = true
        for (const pair of [...routes]) {
          routes.delete(pair)
          await pair.server.close().catch(() => {})
          await pair.page.close({ code: 4000, reason: 'network cut by the test' }).catch(() => {})
        }
      },
      restoreWebSocket() {
        cut = false
      },
    }
  }

  /** The scenario's content as committed in PostgreSQL (not the server's memory). */
  async storedScenario(space: string, scenarioId: string) {
    const { state } = await this.server.store.load(`${space}/scenario/${scenarioId}`)
    const doc = new Y.Doc()
    if (state) Y.applyUpdate(doc, state)
    return projectScenario(doc)
  }

  /** A fresh browser context (closed with the app), e.g. for a Mini App reader. */
  async newContext(options: { name?: string; viewport?: { width: number; height: number } } = {}): Promise<BrowserContext> {
    const context = await this.browser.newContext({ viewport: options.viewport ?? { width: 420, height: 800 } })
    this.#contexts.push(context)
    await this.#watchPolicy(context, options.name ?? 'reader')
    return context
  }

  /**
   * The server sends a strict CSP with the admin and the Mini App; anything
   * the built pages need that it does not allow (an inline script or style,
   * a data: URL, a connection) is reported by the page as a
   * `securitypolicyviolation` event, which fails the test.
   */
  async #watchPolicy(context: BrowserContext, name: string): Promise<void> {
    await context.exposeBinding('__botsyncCspViolation', (_source, text: string) => {
      this.pageErrors.push(`[${name}] CSP violation: ${text}`)
    })
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        const report = (window as unknown as { __botsyncCspViolation: (text: string) => void }).__botsyncCspViolation
        void report(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`)
      })
    })
  }

  assertNoPageErrors(): void {
    const errors = this.pageErrors.splice(0)
    if (errors.length > 0) throw new Error(`uncaught errors in the admin:\n${errors.join('\n')}`)
  }

  async close(): Promise<void> {
    for (const context of this.#contexts) await context.close().catch(() => {})
    await this.browser.close().catch(() => {})
    await Promise.all(this.servers.map((server) => server.stop()))
  }
}

/**
 * Where a test saves its picture of `name`: test-results/ on every run,
 * docs/screenshots/ (the README's copies) with UPDATE_SCREENSHOTS=1.
 */
export function screenshotPath(name: string): string {
  const path = new URL(process.env.UPDATE_SCREENSHOTS ? `../../docs/screenshots/${name}.png` : `../../test-results/${name}.png`, import.meta.url).pathname
  mkdirSync(new URL('.', `file://${path}`).pathname, { recursive: true })
  return path
}

/** The rich-text editor (Quill's contenteditable) of a step's message; click, press and fill work on it. */
export function stepMessage(page: Page, stepId: string) {
  return page.locator(`#step-${stepId}-message`)
}

/** The plain text a rich-text editor shows (one Quill line per paragraph), as the Y.Text holds it. */
export function messageText(editor: Locator): Promise<string> {
  return editor.evaluate((root) => Array.from(root.children, (line) => line.textContent ?? '').join('\n'))
}

/** The texts shown with `selector` (e.g. 'strong' for bold) in a rich-text editor. */
export function formattedTexts(editor: Locator, selector: string): Promise<string[]> {
  return editor.evaluate((root, css) => Array.from(root.querySelectorAll(css), (node) => node.textContent ?? ''), selector)
}

/** Selects `text` (its first occurrence, within one text node) in a rich-text editor, as a mouse drag would. */
export async function selectText(editor: Locator, text: string, options: { collapseToEnd?: boolean } = {}): Promise<void> {
  await editor.evaluate(
    (root, { text, collapseToEnd }) => {
      ;(root as HTMLElement).focus()
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent?.indexOf(text) ?? -1
        if (at === -1) continue
        const range = document.createRange()
        range.setStart(node, collapseToEnd ? at + text.length : at)
        range.setEnd(node, at + text.length)
        const selection = window.getSelection()!
        selection.removeAllRanges()
        selection.addRange(range)
        return
      }
      throw new Error(`"${text}" is not in the editor`)
    },
    { text, collapseToEnd: options.collapseToEnd ?? false },
  )
}

/**
 * One app for a test file: started before its tests, closed after them, and
 * every test fails if it left an uncaught error in a page.
 */
export function useE2eApp(onStarted: (app: E2eApp) => unknown, env?: Record<string, string>, options?: { instances?: number }): void {
  let app: E2eApp | undefined
  beforeAll(async () => {
    app = await E2eApp.start(env, options)
    await onStarted(app)
  })
  afterEach(() => app?.assertNoPageErrors())
  afterAll(async () => {
    await app?.close()
  })
}

/**
 * A describe block's app on its own fake Telegram, with `space` seeded and its
 * real telegraf bot (`botUsername`) running: what the tests of what a user
 * gets share. `onStarted` receives both before the first test.
 */
export function useE2eAppWithBot(space: string, botUsername: string, onStarted: (started: { app: E2eApp; bot: SpaceBot }) => unknown): void {
  const telegram = new FakeTelegram()
  let app: E2eApp | undefined
  beforeAll(async () => {
    await telegram.start()
    app = await E2eApp.start({ TELEGRAM_API_ROOT: telegram.apiRoot })
    await app.seedSpace(space)
    await onStarted({ app, bot: await SpaceBot.start(app, telegram, space, botUsername) })
  })
  afterEach(() => app?.assertNoPageErrors())
  afterAll(async () => {
    await app?.close()
    await telegram.stop()
  })
}

/** Bot ids no other bot of this run has (space_bots.bot_id is unique). */
let nextBotId = 700_000_000 + Math.floor(Math.random() * 50_000_000)

/**
 * A space's own real telegraf bot, supervised by the app's server as in
 * production, on a fake Bot API of its own: for the tests that check what
 * a user gets. The app must have been started with this Telegram's
 * TELEGRAM_API_ROOT.
 */
export class SpaceBot {
  readonly fake: FakeBotApi

  private constructor(fake: FakeBotApi) {
    this.fake = fake
  }

  static async start(app: E2eApp, telegram: FakeTelegram, space: string, botUsername: string): Promise<SpaceBot> {
    const token = `${nextBotId++}:AA-e2e-${space}`
    const fake = telegram.bot({ token, botUsername })
    await app.server.bots.run()
    await app.server.spaceBots.set(space, token)
    return new SpaceBot(fake)
  }

  /** The bot's next message to `user` after they send `/start [payload]`. */
  async start(user: { id: number; first_name: string }, payload?: string): Promise<RecordedCall> {
    const since = this.fake.mark()
    this.fake.sendCommand(user, 'start', payload)
    return this.fake.nextMessageTo(user.id, { since, timeoutMs: 15_000 })
  }
}

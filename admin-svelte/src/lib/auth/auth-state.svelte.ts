// Login against the server's /api/login. Two tokens: the short access JWT,
// kept in sessionStorage (it survives a reload, needed to keep working
// offline across one, but not the closing of the tab), and the long refresh
// token, which scripts never see: an HttpOnly cookie the server sets and
// rotates (server/src/http/session-routes.ts). A new tab has no access token
// yet and asks POST /api/refresh for one with the cookie: logged in, no form.
//
// Across tabs, localStorage holds only *who* is logged in in this browser
// (id, email, name, and whether the session is still on), never a token.
// That is the secure choice: an access token in localStorage would outlive
// the browser on disk and be readable by any script of any later page load;
// this way every tab's bearer token lives only as long as the tab, and the
// one long-lived secret stays in the HttpOnly cookie. The record serves
// three things: a new tab opened offline (or with the server down) starts
// with the remembered user and works on the documents cached on this device,
// getting its token when the network returns; the login form has the email
// filled in after the session expired; and its changes reach the other tabs
// as `storage` events, so a logout in one tab logs out all of them.
import { SESSION_ERRORS, SESSION_HEADER } from '@botsync/shared-docs'

export type { SpaceRole as AdminRole } from '@botsync/shared-docs'

/** Who is logged in; roles are per space (GET /api/spaces), not on the user. */
export interface SessionUser {
  id: string
  email: string
  name: string
}

export interface StoredSession {
  token: string
  /** Milliseconds since the epoch. */
  expiresAt: number
  user: SessionUser
}

const STORAGE_KEY = 'botsync:session'
/** localStorage: who is logged in in this browser (see the top of the file); no credential. */
export const ACCOUNT_KEY = 'botsync:account'

interface Account {
  user: SessionUser
  /** False once the session expired: the email still pre-fills the form, but nothing opens offline. */
  signedIn: boolean
}

function parseAccount(text: string | null): Account | null {
  if (!text) return null
  try {
    const value = JSON.parse(text) as Partial<Account>
    const user = value.user as Partial<SessionUser> | undefined
    if (typeof value.signedIn !== 'boolean' || !user) return null
    if (typeof user.id !== 'string' || typeof user.email !== 'string' || typeof user.name !== 'string') return null
    return { user: { id: user.id, email: user.email, name: user.name }, signedIn: value.signedIn }
  } catch {
    return null
  }
}

function parseSession(text: string | null): StoredSession | null {
  if (!text) return null
  try {
    const value = JSON.parse(text) as Partial<StoredSession>
    const user = value.user as Partial<SessionUser> | undefined
    if (typeof value.token !== 'string' || typeof value.expiresAt !== 'number' || !user) return null
    if (typeof user.id !== 'string' || typeof user.email !== 'string' || typeof user.name !== 'string') return null
    return { token: value.token, expiresAt: value.expiresAt, user: { id: user.id, email: user.email, name: user.name } }
  } catch {
    return null
  }
}

const LOGIN_ERRORS: Record<string, string> = {
  'invalid-credentials': 'Wrong email or password.',
  'invalid-request': 'Enter an email and a password.',
}

/** Refresh when this share of the token's remaining lifetime has passed. */
const REFRESH_AT = 0.8
/**
 * After a network error or a server error, try again this much later (also
 * once the token has expired: offline, the page keeps working on its local
 * copies, and the server's answer decides when it is reachable again).
 */
const REFRESH_RETRY_MS = 10_000
/** Answers of POST /api/refresh that mean the session is over (others are retried). */
const SESSION_OVER = new Set([401, 403])
/**
 * POST /api/refresh answered 409 `refresh-raced`: another tab of this browser
 * rotated the same cookie a moment ago. Its answer puts the new cookie in the
 * shared jar; retry after this long, at most RACE_RETRIES times.
 */
const RACE_RETRY_MS = 500
const RACE_RETRIES = 3
/** Cookie-only requests carry this header: the server's CSRF check. */
const SESSION_HEADERS = { [SESSION_HEADER]: '1' }

type SessionBody = { token?: string; expiresAt?: number; user?: SessionUser; error?: string; message?: string } | null

export class AuthState {
  #session = $state<StoredSession | null>(null)
  #error = $state<string | null>(null)
  #notice = $state<string | null>(null)
  #busy = $state(false)
  #restoring = $state(false)
  /** Remembered from this browser's account record while the server cannot be reached: working offline, no token yet. */
  #offlineUser = $state<SessionUser | null>(null)
  #lastEmail = $state<string | null>(null)
  readonly #storage: Storage | null
  readonly #accounts: Storage | null
  readonly #fetch: typeof fetch
  readonly #autoRefresh: boolean
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- listeners, never rendered
  readonly #refreshed = new Set<(token: string) => void>()
  #refreshTimer: ReturnType<typeof setTimeout> | null = null
  #refreshing: Promise<boolean> | null = null

  /**
   * `storage`: this tab's session (sessionStorage); `accounts`: who is logged
   * in in this browser (localStorage), shared by its tabs. `restore`
   * (default: as `autoRefresh`): with no stored session, ask the server at
   * once whether the browser's refresh cookie still opens one.
   */
  constructor(options: { storage?: Storage | null; accounts?: Storage | null; fetch?: typeof fetch; autoRefresh?: boolean; restore?: boolean; events?: EventTarget | null } = {}) {
    this.#storage = options.storage !== undefined ? options.storage : (globalThis.sessionStorage ?? null)
    this.#accounts = options.accounts !== undefined ? options.accounts : (globalThis.localStorage ?? null)
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.#autoRefresh = options.autoRefresh ?? true
    this.#lastEmail = this.#account()?.user.email ?? null
    this.#setSession(parseSession(this.#storage?.getItem(STORAGE_KEY) ?? null))
    // Other tabs write the account record; the network coming back is when a token can be had again.
    const events = options.events !== undefined ? options.events : typeof window === 'undefined' ? null : window
    events?.addEventListener('storage', (event) => this.#onStorage(event as StorageEvent))
    events?.addEventListener('online', () => this.#onOnline())
    if (!this.#session && (options.restore ?? this.#autoRefresh)) void this.restore()
  }

  /**
   * A new tab (or a closed and reopened one): the session from the refresh
   * cookie, if it still has one. The server unreachable (offline, or down)
   * while this browser's account is logged in: the remembered user, to work
   * on the documents cached on this device; the token comes when it can.
   */
  async restore(): Promise<boolean> {
    this.#restoring = true
    try {
      return await this.refresh()
    } finally {
      this.#restoring = false
    }
  }

  #account(): Account | null {
    return parseAccount(this.#accounts?.getItem(ACCOUNT_KEY) ?? null)
  }

  #writeAccount(account: Account | null): void {
    try {
      if (account) this.#accounts?.setItem(ACCOUNT_KEY, JSON.stringify(account))
      else this.#accounts?.removeItem(ACCOUNT_KEY)
    } catch {
      // Storage full or refused (private mode): only the offline start and the other tabs miss it.
    }
  }

  /** Another tab of this browser changed the account record. */
  #onStorage(event: StorageEvent): void {
    if (event.key !== ACCOUNT_KEY && event.key !== null) return
    const account = parseAccount(event.newValue)
    const here = this.user
    if (!account) {
      // Logged out there: this tab too (the server already revoked the cookie).
      if (here) this.#end('You logged out in another tab.')
      this.#lastEmail = null
      return
    }
    this.#lastEmail = account.user.email
    // Expired there, logged in there as someone else, or logged in there while this tab shows the form:
    // the shared cookie says what is true now.
    if (!account.signedIn ? here !== null : here?.id !== account.user.id) void (here ? this.refresh() : this.restore())
  }

  /** Working offline or on an expired token: the network is back, get a token now rather than at the next retry. */
  #onOnline(): void {
    if (!this.#autoRefresh || !this.user) return
    if (!this.#session || this.#session.expiresAt <= Date.now()) void this.refresh()
  }

  /** The start-up refresh is under way: show neither the app nor the login form yet. */
  get restoring(): boolean {
    return this.#restoring
  }

  /** The logged-in session with its access token, or null (also while working offline without one: see `user`). */
  get session(): StoredSession | null {
    return this.#session
  }

  /** Working offline on this device's documents: logged in in this browser, but no token could be had yet. */
  get offline(): boolean {
    return this.#session === null && this.#offlineUser !== null
  }

  /** The email of who was last logged in in this browser, for the login form (none after a logout). */
  get lastEmail(): string | null {
    return this.#lastEmail
  }

  /** Why the last login failed, for the login page. */
  get error(): string | null {
    return this.#error
  }

  /** Why the last session ended, when it was not a logout (e.g. the token expired). */
  get notice(): string | null {
    return this.#notice
  }

  /** A login is under way. */
  get busy(): boolean {
    return this.#busy
  }

  /**
   * Called with each refreshed token. The collaboration session hands it to
   * its open providers, so the server extends their write access before the
   * old token's expiry instead of turning them read-only.
   */
  onRefreshed(listener: (token: string) => void): () => void {
    this.#refreshed.add(listener)
    return () => this.#refreshed.delete(listener)
  }

  /**
   * A fresh access token from the refresh cookie (POST /api/refresh, which
   * also rotates the cookie). The server re-reads the user: a deleted user's
   * session ends here, a changed name arrives with the new token. Without a
   * session yet (a new tab) a success logs in and a refusal changes nothing.
   * False when the session is over or the server was unreachable (then it is
   * tried again shortly).
   */
  refresh(): Promise<boolean> {
    // Several callers at once in this tab (the timer, a refused socket, an expired one) share one request.
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = null))
    return this.#refreshing
  }

  async #refresh(): Promise<boolean> {
    const current = this.session
    const offlineUser = this.#offlineUser
    let answer: { response: Response; body: SessionBody }
    try {
      answer = await this.#postRefresh()
    } catch {
      this.#unreachable(current)
      return false
    }
    const { response, body } = answer
    // A login, a logout or another refresh happened meanwhile: that one counts.
    if (this.session !== current || this.#offlineUser !== offlineUser) return this.session !== null
    const session = response.ok ? parseSession(JSON.stringify(body)) : null
    if (!session) {
      const remembered = current ?? offlineUser ?? (this.#account()?.signedIn ? this.#account() : null)
      if (!remembered) return false
      if (SESSION_OVER.has(response.status)) this.expire(body?.error ?? SESSION_ERRORS.expired)
      else this.#unreachable(current)
      return false
    }
    this.#setSession(session)
    for (const listener of this.#refreshed) listener(session.token)
    return true
  }

  /**
   * The server could not be asked (no network, or it is down or failing):
   * nothing is over. A session, or this browser's logged-in account, keeps
   * the page working on this device's documents; the refresh is tried again.
   */
  #unreachable(current: StoredSession | null): void {
    if (!current && !this.#offlineUser) {
      const account = this.#account()
      if (!account?.signedIn) return
      this.#offlineUser = account.user
    }
    this.#scheduleRefresh(REFRESH_RETRY_MS)
  }

  /** POST /api/refresh, retried while another tab's rotation of the same cookie is landing (409 `refresh-raced`). */
  async #postRefresh(): Promise<{ response: Response; body: SessionBody }> {
    for (let attempt = 0; ; attempt += 1) {
      const response = await this.#fetch('/api/refresh', { method: 'POST', credentials: 'same-origin', headers: SESSION_HEADERS })
      const body = (await response.json().catch(() => null)) as SessionBody
      if (response.status !== 409 || body?.error !== SESSION_ERRORS.raced || attempt >= RACE_RETRIES) return { response, body }
      await new Promise((resolve) => setTimeout(resolve, RACE_RETRY_MS))
    }
  }

  #setSession(session: StoredSession | null): void {
    this.#session = session
    this.#offlineUser = null
    if (session) this.#storage?.setItem(STORAGE_KEY, JSON.stringify(session))
    else this.#storage?.removeItem(STORAGE_KEY)
    if (session) {
      this.#writeAccount({ user: session.user, signedIn: true })
      this.#lastEmail = session.user.email
    }
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer)
    this.#refreshTimer = null
    if (session) this.#scheduleRefresh(Math.max(0, (session.expiresAt - Date.now()) * REFRESH_AT))
  }

  #scheduleRefresh(delayMs: number): void {
    if (!this.#autoRefresh || !this.user) return
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer)
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null
      void this.refresh()
    }, delayMs)
  }

  /** Who is logged in: the session's user, or the remembered one while working offline. */
  get user(): SessionUser | null {
    return this.session?.user ?? this.#offlineUser
  }

  get token(): string | null {
    return this.session?.token ?? null
  }

  async login(email: string, password: string): Promise<boolean> {
    this.#busy = true
    this.#error = null
    this.#notice = null
    try {
      const response = await this.#fetch('/api/login', {
        method: 'POST',
        // The answer sets the refresh cookie.
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      })
      const body = (await response.json().catch(() => null)) as { token?: string; expiresAt?: number; user?: SessionUser; error?: string; message?: string } | null
      if (!response.ok || !body?.token) {
        this.#error =
          body?.error === 'too-many-attempts'
            ? `Too many failed attempts. Try again in ${Number((body as { retryAfter?: number }).retryAfter ?? response.headers.get('retry-after') ?? 60)} s.`
            : (LOGIN_ERRORS[body?.error ?? ''] ?? body?.message ?? `Login failed (HTTP ${response.status}).`)
        return false
      }
      const session = parseSession(JSON.stringify(body))
      if (!session) {
        this.#error = 'The server sent an unexpected answer.'
        return false
      }
      this.#setSession(session)
      return true
    } catch {
      this.#error = 'Cannot reach the server. Check your connection and try again.'
      return false
    } finally {
      this.#busy = false
    }
  }

  /**
   * Takes a session the server issued other than through /api/login: accepting
   * an invite or a password reset answers the same body. False (and nothing
   * changes) when the body is not a session.
   */
  adopt(body: unknown): boolean {
    const session = parseSession(JSON.stringify(body ?? null))
    if (!session) return false
    this.#error = null
    this.#notice = null
    this.#setSession(session)
    return true
  }

  /** Ends this browser's session: here at once, and on the server (its refresh cookie revoked and cleared). */
  async logout(): Promise<void> {
    this.#end(null)
    // The other tabs see the record go (a `storage` event) and log out too; the form no longer names this user.
    this.#writeAccount(null)
    this.#lastEmail = null
    try {
      await this.#fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: SESSION_HEADERS })
    } catch {
      // Offline: the cookie stays until it expires, but this tab is logged out.
    }
  }

  /**
   * Ends every session of this user, on every device and browser (their open
   * tabs find out at their next refresh, or at once when their sockets are
   * closed). False, and still logged in, when the server could not be told.
   */
  async logoutEverywhere(): Promise<boolean> {
    const current = this.session
    if (!current) return false
    try {
      const response = await this.#fetch('/api/logout-all', { method: 'POST', credentials: 'same-origin', headers: { authorization: `Bearer ${current.token}` } })
      if (!response.ok && !SESSION_OVER.has(response.status)) return false
    } catch {
      return false
    }
    this.#end('You were logged out on every device.')
    this.#writeAccount(null)
    this.#lastEmail = null
    return true
  }

  /** No session in this tab any more (and not working offline either); the login form shows `notice`. */
  #end(notice: string | null): void {
    this.#setSession(null)
    this.#notice = notice
  }

  /** Ends the session because the server refused the token; edits stay on this device. */
  expire(reason: string): void {
    const user = this.user ?? this.#account()?.user ?? null
    this.#setSession(null)
    // Still this browser's account, logged out: the form keeps the email; the other tabs check their own session.
    if (user) this.#writeAccount({ user, signedIn: false })
    this.#notice =
      reason === 'token-expired' || reason === SESSION_ERRORS.expired
        ? 'Your session expired. Log in again; changes made on this device are kept and will be sent.'
        : reason === 'user-not-found'
          ? 'Your account no longer exists. Ask an owner for access.'
          : reason === SESSION_ERRORS.revoked
            ? 'Your session was ended (logged out everywhere, or on another device). Log in again; changes made on this device are kept.'
            : `The server refused your session (${reason}). Log in again.`
  }
}

// Login against the server's /api/login. Two tokens: the short access JWT,
// kept in sessionStorage (it survives a reload, needed to keep working
// offline across one, but not the closing of the tab), and the long refresh
// token, which scripts never see: an HttpOnly cookie the server sets and
// rotates (server/src/http/session-routes.ts). A new tab has no access token
// yet and asks POST /api/refresh for one with the cookie: logged in, no form.
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
  readonly #storage: Storage | null
  readonly #fetch: typeof fetch
  readonly #autoRefresh: boolean
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- listeners, never rendered
  readonly #refreshed = new Set<(token: string) => void>()
  #refreshTimer: ReturnType<typeof setTimeout> | null = null
  #refreshing: Promise<boolean> | null = null

  /**
   * `restore` (default: as `autoRefresh`): with no stored session, ask the
   * server at once whether the browser's refresh cookie still opens one.
   */
  constructor(options: { storage?: Storage | null; fetch?: typeof fetch; autoRefresh?: boolean; restore?: boolean } = {}) {
    this.#storage = options.storage !== undefined ? options.storage : (globalThis.sessionStorage ?? null)
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.#autoRefresh = options.autoRefresh ?? true
    this.#setSession(parseSession(this.#storage?.getItem(STORAGE_KEY) ?? null))
    if (!this.#session && (options.restore ?? this.#autoRefresh)) void this.restore()
  }

  /** A new tab (or a closed and reopened one): the session from the refresh cookie, if it still has one. */
  async restore(): Promise<boolean> {
    this.#restoring = true
    try {
      return await this.refresh()
    } finally {
      this.#restoring = false
    }
  }

  /** The start-up refresh is under way: show neither the app nor the login form yet. */
  get restoring(): boolean {
    return this.#restoring
  }

  /** The logged-in session, or null. */
  get session(): StoredSession | null {
    return this.#session
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
    let answer: { response: Response; body: SessionBody }
    try {
      answer = await this.#postRefresh()
    } catch {
      if (current) this.#scheduleRefresh(REFRESH_RETRY_MS)
      return false
    }
    const { response, body } = answer
    // A login, a logout or another refresh happened meanwhile: that one counts.
    if (this.session !== current) return this.session !== null
    const session = response.ok ? parseSession(JSON.stringify(body)) : null
    if (!session) {
      if (!current) return false
      if (SESSION_OVER.has(response.status)) this.expire(body?.error ?? SESSION_ERRORS.expired)
      else this.#scheduleRefresh(REFRESH_RETRY_MS)
      return false
    }
    this.#setSession(session)
    if (current) for (const listener of this.#refreshed) listener(session.token)
    return true
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
    if (session) this.#storage?.setItem(STORAGE_KEY, JSON.stringify(session))
    else this.#storage?.removeItem(STORAGE_KEY)
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer)
    this.#refreshTimer = null
    if (session) this.#scheduleRefresh(Math.max(0, (session.expiresAt - Date.now()) * REFRESH_AT))
  }

  #scheduleRefresh(delayMs: number): void {
    if (!this.#autoRefresh || !this.session) return
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer)
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null
      void this.refresh()
    }, delayMs)
  }

  get user(): SessionUser | null {
    return this.session?.user ?? null
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
    this.#setSession(null)
    this.#notice = null
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
    this.#setSession(null)
    this.#notice = 'You were logged out on every device.'
    return true
  }

  /** Ends the session because the server refused the token; edits stay on this device. */
  expire(reason: string): void {
    this.#setSession(null)
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

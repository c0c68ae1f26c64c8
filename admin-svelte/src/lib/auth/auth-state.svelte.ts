// Login against the server's /api/login. The JWT is kept in sessionStorage:
// it survives a reload (needed to keep working offline across one) but not
// the closing of the tab.
export type AdminRole = 'owner' | 'editor' | 'viewer'

/** The logged-in user. Roles are held per space (see SpacesState), not here. */
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

export class AuthState {
  #session = $state<StoredSession | null>(null)
  #error = $state<string | null>(null)
  #notice = $state<string | null>(null)
  #busy = $state(false)
  readonly #storage: Storage | null
  readonly #fetch: typeof fetch
  readonly #autoRefresh: boolean
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- listeners, never rendered
  readonly #refreshed = new Set<(token: string) => void>()
  #refreshTimer: ReturnType<typeof setTimeout> | null = null

  constructor(options: { storage?: Storage | null; fetch?: typeof fetch; autoRefresh?: boolean } = {}) {
    this.#storage = options.storage !== undefined ? options.storage : (globalThis.sessionStorage ?? null)
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.#autoRefresh = options.autoRefresh ?? true
    this.#setSession(parseSession(this.#storage?.getItem(STORAGE_KEY) ?? null))
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
   * Trades the current token for a fresh one (POST /api/refresh). The server
   * re-reads the user: a deleted user's session ends here, a changed role
   * arrives with the new token. False when the session is over or the
   * server was unreachable (then it is tried again shortly).
   */
  async refresh(): Promise<boolean> {
    const current = this.session
    if (!current) return false
    let response: Response
    let body: { token?: string; expiresAt?: number; user?: SessionUser; error?: string } | null
    try {
      response = await this.#fetch('/api/refresh', { method: 'POST', headers: { authorization: `Bearer ${current.token}` } })
      body = (await response.json().catch(() => null)) as typeof body
    } catch {
      this.#scheduleRefresh(REFRESH_RETRY_MS)
      return false
    }
    // A logout or another refresh happened meanwhile: that one counts.
    if (this.session !== current) return this.session !== null
    const session = response.ok ? parseSession(JSON.stringify(body)) : null
    if (!session) {
      if (SESSION_OVER.has(response.status)) this.expire(body?.error ?? 'token-expired')
      else this.#scheduleRefresh(REFRESH_RETRY_MS)
      return false
    }
    this.#setSession(session)
    for (const listener of this.#refreshed) listener(session.token)
    return true
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

  logout(): void {
    this.#setSession(null)
  }

  /** Ends the session because the server refused the token; edits stay on this device. */
  expire(reason: string): void {
    this.logout()
    this.#notice =
      reason === 'token-expired'
        ? 'Your session expired. Log in again; changes made on this device are kept and will be sent.'
        : reason === 'user-not-found'
          ? 'Your account no longer exists. Ask an owner for access.'
          : `The server refused your session (${reason}). Log in again.`
  }
}

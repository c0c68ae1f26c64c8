// Login against the server's /api/login. The JWT is kept in sessionStorage:
// it survives a reload (needed to keep working offline across one) but not
// the closing of the tab.
export type AdminRole = 'owner' | 'editor' | 'viewer'

export interface SessionUser {
  id: string
  email: string
  name: string
  role: AdminRole
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
    if (user.role !== 'owner' && user.role !== 'editor' && user.role !== 'viewer') return null
    return { token: value.token, expiresAt: value.expiresAt, user: user as SessionUser }
  } catch {
    return null
  }
}

const LOGIN_ERRORS: Record<string, string> = {
  'invalid-credentials': 'Wrong email or password.',
  'invalid-request': 'Enter an email and a password.',
}

export class AuthState {
  session = $state<StoredSession | null>(null)
  error = $state<string | null>(null)
  /** Why the last session ended, when it was not a logout (e.g. the token expired). */
  notice = $state<string | null>(null)
  busy = $state(false)
  readonly #storage: Storage | null
  readonly #fetch: typeof fetch

  constructor(options: { storage?: Storage | null; fetch?: typeof fetch } = {}) {
    this.#storage = options.storage !== undefined ? options.storage : (globalThis.sessionStorage ?? null)
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.session = parseSession(this.#storage?.getItem(STORAGE_KEY) ?? null)
  }

  get user(): SessionUser | null {
    return this.session?.user ?? null
  }

  get token(): string | null {
    return this.session?.token ?? null
  }

  /** Owners and editors change content; viewers only look. */
  get canEdit(): boolean {
    return this.session !== null && this.session.user.role !== 'viewer'
  }

  async login(email: string, password: string): Promise<boolean> {
    this.busy = true
    this.error = null
    this.notice = null
    try {
      const response = await this.#fetch('/api/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      })
      const body = (await response.json().catch(() => null)) as
        | { token?: string; expiresAt?: number; user?: SessionUser; error?: string; message?: string }
        | null
      if (!response.ok || !body?.token) {
        this.error = LOGIN_ERRORS[body?.error ?? ''] ?? body?.message ?? `Login failed (HTTP ${response.status}).`
        return false
      }
      const session = parseSession(JSON.stringify(body))
      if (!session) {
        this.error = 'The server sent an unexpected answer.'
        return false
      }
      this.session = session
      this.#storage?.setItem(STORAGE_KEY, JSON.stringify(session))
      return true
    } catch {
      this.error = 'Cannot reach the server. Check your connection and try again.'
      return false
    } finally {
      this.busy = false
    }
  }

  logout(): void {
    this.session = null
    this.#storage?.removeItem(STORAGE_KEY)
  }

  /** Ends the session because the server refused the token; edits stay on this device. */
  expire(reason: string): void {
    this.logout()
    this.notice =
      reason === 'token-expired'
        ? 'Your session expired. Log in again; changes made on this device are kept and will be sent.'
        : `The server refused your session (${reason}). Log in again.`
  }
}

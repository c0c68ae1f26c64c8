// An invite or password-reset link (#/invite/<token>), opened logged out or
// in: what it offers (GET /api/invites/:token), then accepting it
// (POST …/accept). A new user sets a name and password and comes back
// logged in (the answer is a /api/login body, handed to AuthState); an
// existing user just joins and then logs in; a reset sets a new password.
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'
import { parseInviteInfo, type InviteInfo } from '../api/wire.ts'

/** The server's minimum password length. */
export const MIN_PASSWORD_LENGTH = 8

export type InviteStatus = 'loading' | 'ready' | 'invalid' | 'expired' | 'used' | 'failed' | 'accepted'

export type AcceptResult =
  /** Logged in with this session body (new user, or a reset). */
  | { ok: true; session: unknown }
  /** Joined as an existing user: log in (or go straight in when already logged in as them). */
  | { ok: true; joined: string }
  | { ok: false; error: string; message: string; field?: 'name' | 'password' | 'confirm' }

export class InviteState {
  readonly token: string
  #info = $state<InviteInfo | null>(null)
  #status = $state<InviteStatus>('loading')
  #message = $state<string | null>(null)
  #busy = $state(false)
  readonly #api: ApiClient

  constructor(token: string, options: Partial<ApiOptions> = {}) {
    this.token = token
    this.#api = new ApiClient({ token: options.token ?? (() => null), fetch: options.fetch })
  }

  get info(): InviteInfo | null {
    return this.#info
  }

  get status(): InviteStatus {
    return this.#status
  }

  /** The sentence for a status other than loading/ready (invalid, expired, used, failed). */
  get message(): string | null {
    return this.#message
  }

  get busy(): boolean {
    return this.#busy
  }

  #path(): string {
    return `/api/invites/${segment(this.token)}`
  }

  async load(): Promise<void> {
    this.#status = 'loading'
    const result = await this.#api.get(this.#path())
    if (!result.ok) {
      this.#status = result.error === 'invite-expired' ? 'expired' : result.error === 'invite-used' ? 'used' : result.status === 404 ? 'invalid' : 'failed'
      this.#message = result.message
      return
    }
    const info = parseInviteInfo(result.body)
    if (!info) {
      this.#status = 'failed'
      this.#message = 'The server sent an unexpected answer.'
      return
    }
    this.#info = info
    this.#status = 'ready'
    this.#message = null
  }

  /**
   * Accepts the link. A new user (and a reset) needs a password of at least
   * MIN_PASSWORD_LENGTH, typed twice; a new user also a name.
   */
  async accept(input: { name?: string; password?: string; confirm?: string } = {}): Promise<AcceptResult> {
    const info = this.#info
    if (!info) return { ok: false, error: 'not-loaded', message: 'The link is still loading.' }
    const needsPassword = info.kind === 'reset' || !info.existingUser
    const name = input.name?.trim() ?? ''
    const password = input.password ?? ''
    if (info.kind === 'invite' && !info.existingUser && name === '') return { ok: false, error: 'invalid-request', field: 'name', message: 'Enter your name.' }
    if (needsPassword && password.length < MIN_PASSWORD_LENGTH) {
      return { ok: false, error: 'invalid-password', field: 'password', message: `A password needs at least ${MIN_PASSWORD_LENGTH} characters.` }
    }
    if (needsPassword && input.confirm !== undefined && input.confirm !== password) {
      return { ok: false, error: 'password-mismatch', field: 'confirm', message: 'The two passwords differ.' }
    }
    const body = needsPassword ? (info.kind === 'reset' ? { password } : { name, password }) : {}
    this.#busy = true
    try {
      const result = await this.#api.request<Record<string, unknown>>('POST', `${this.#path()}/accept`, body)
      if (!result.ok) {
        if (result.error === 'invite-expired' || result.error === 'invite-used' || result.error === 'invite-not-found') {
          this.#status = result.error === 'invite-expired' ? 'expired' : result.error === 'invite-used' ? 'used' : 'invalid'
          this.#message = result.message
        }
        return { ok: false, error: result.error, message: result.message }
      }
      this.#status = 'accepted'
      const answer = result.body ?? {}
      if (typeof answer.token === 'string') return { ok: true, session: answer }
      return { ok: true, joined: typeof answer.joined === 'string' ? answer.joined : info.space }
    } finally {
      this.#busy = false
    }
  }
}

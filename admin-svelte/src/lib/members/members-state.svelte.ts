// The Members page of one space (GET /api/spaces/:space/members): the people
// and their roles, last seen, and (for owners) the invites not used yet.
// Owners change roles, remove members, issue password-reset links and
// invite by email; each one-time link comes back to be copied (and is also
// emailed when the server can). Every change re-reads the list, so what is
// shown is what the server holds.
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'
import { parseInvite, parseIssuedLink, parseMember, type IssuedLink, type Member, type PendingInvite, type SpaceRole } from '../api/wire.ts'

export type MemberActionResult<T = object> = ({ ok: true } & T) | { ok: false; error: string; message: string }

/** An email address good enough to send to (the server has the last word). */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export class MembersState {
  readonly space: string
  #members = $state<Member[]>([])
  #invites = $state<PendingInvite[]>([])
  #loaded = $state(false)
  #error = $state<string | null>(null)
  #busy = $state(false)
  readonly #api: ApiClient

  constructor(space: string, options: ApiOptions) {
    this.space = space
    this.#api = new ApiClient(options)
  }

  /** Members by name. */
  get members(): readonly Member[] {
    return this.#members
  }

  /** Invite and reset links not used yet, soonest expiry first (empty for non-owners). */
  get invites(): readonly PendingInvite[] {
    return this.#invites
  }

  get loaded(): boolean {
    return this.#loaded
  }

  /** Why the last load failed. */
  get error(): string | null {
    return this.#error
  }

  /** A change is under way. */
  get busy(): boolean {
    return this.#busy
  }

  get ownerCount(): number {
    return this.#members.filter((member) => member.role === 'owner').length
  }

  #base(): string {
    return `/api/spaces/${segment(this.space)}`
  }

  async refresh(): Promise<boolean> {
    const result = await this.#api.get<{ members?: unknown; invites?: unknown }>(`${this.#base()}/members`)
    if (!result.ok) {
      this.#error = result.message
      return false
    }
    const members = (Array.isArray(result.body?.members) ? result.body.members : []).map(parseMember).filter((m): m is Member => m !== null)
    const invites = (Array.isArray(result.body?.invites) ? result.body.invites : []).map(parseInvite).filter((i): i is PendingInvite => i !== null)
    this.#members = members.sort((a, b) => a.name.localeCompare(b.name) || a.email.localeCompare(b.email))
    this.#invites = invites.sort((a, b) => a.expiresAt - b.expiresAt)
    this.#error = null
    this.#loaded = true
    return true
  }

  async #change<T>(run: () => Promise<MemberActionResult<T>>): Promise<MemberActionResult<T>> {
    this.#busy = true
    try {
      const result = await run()
      // Also after a refusal: someone else may have changed the list meanwhile (a 409 last-owner, a 404).
      await this.refresh()
      return result
    } finally {
      this.#busy = false
    }
  }

  setRole(userId: string, role: SpaceRole): Promise<MemberActionResult> {
    return this.#change(async () => {
      const result = await this.#api.request('PATCH', `${this.#base()}/members/${segment(userId)}`, { role })
      return result.ok ? { ok: true } : { ok: false, error: result.error, message: result.message }
    })
  }

  remove(userId: string): Promise<MemberActionResult> {
    return this.#change(async () => {
      const result = await this.#api.request('DELETE', `${this.#base()}/members/${segment(userId)}`)
      return result.ok ? { ok: true } : { ok: false, error: result.error, message: result.message }
    })
  }

  /** Issues a one-time password-reset link for a member. */
  resetPassword(userId: string): Promise<MemberActionResult<{ link: IssuedLink }>> {
    return this.#change(async () => this.#issued(await this.#api.request('POST', `${this.#base()}/members/${segment(userId)}/reset`)))
  }

  /** Invites someone by email with a role: a one-time link, valid 7 days. */
  invite(email: string, role: SpaceRole): Promise<MemberActionResult<{ link: IssuedLink }>> {
    const address = email.trim()
    if (!EMAIL_PATTERN.test(address)) return Promise.resolve({ ok: false, error: 'invalid-email', message: 'Enter an email address, like ben@example.com.' })
    return this.#change(async () => this.#issued(await this.#api.request('POST', `${this.#base()}/invites`, { email: address, role })))
  }

  #issued(result: Awaited<ReturnType<ApiClient['request']>>): MemberActionResult<{ link: IssuedLink }> {
    if (!result.ok) return { ok: false, error: result.error, message: result.message }
    const link = parseIssuedLink(result.body)
    return link ? { ok: true, link } : { ok: false, error: 'unexpected-answer', message: 'The server sent an unexpected answer.' }
  }

  /** Revokes an invite or reset link not used yet. */
  revoke(inviteId: string): Promise<MemberActionResult> {
    return this.#change(async () => {
      const result = await this.#api.request('DELETE', `${this.#base()}/invites/${segment(inviteId)}`)
      return result.ok ? { ok: true } : { ok: false, error: result.error, message: result.message }
    })
  }
}

/** "just now", "5 minutes ago", "yesterday", … ; "never" for null. */
export function relativeTime(at: number | null, now = Date.now()): string {
  if (at === null) return 'never'
  const seconds = Math.round((at - now) / 1000)
  const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })
  const abs = Math.abs(seconds)
  if (abs < 45) return 'just now'
  if (abs < 3600) return format.format(Math.round(seconds / 60), 'minute')
  if (abs < 86_400) return format.format(Math.round(seconds / 3600), 'hour')
  if (abs < 30 * 86_400) return format.format(Math.round(seconds / 86_400), 'day')
  if (abs < 365 * 86_400) return format.format(Math.round(seconds / (30 * 86_400)), 'month')
  return format.format(Math.round(seconds / (365 * 86_400)), 'year')
}

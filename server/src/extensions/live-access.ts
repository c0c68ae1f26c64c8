import { OutgoingMessage, type Connection, type connectedPayload, type Extension, type onTokenSyncPayload } from '@hocuspocus/server'
import { USER_ACCESS_CHANNEL, type Database } from '@botsync/persistence'
import { SESSION_ERRORS, type AccessLossReason } from '@botsync/shared-docs'
import { documentAccess, type Authenticator } from '../auth/authenticator.ts'
import { AccessDenied } from '../auth/roles.ts'
import type { SpaceAccessRow, SpaceMembers } from '../auth/space-members.ts'
import type { UserRepository } from '../auth/user-repository.ts'
import { accessNotice } from '../client-frame.ts'
import type { Logger } from '../logger.ts'
import type { ConnectionContext } from '../types.ts'

type AdminConnection = Connection<ConnectionContext>

/** setTimeout's longest delay; a later expiry re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Keeps an admin connection's access in line with its token and its user row
 * for as long as it is open, not just at connect:
 *
 * - **Expiry.** At the token's `exp` the connection becomes read-only, the
 *   client gets `token-expired` (stateless notice + the readonly scope) and
 *   is asked for its token (Hocuspocus' token sync: the provider answers
 *   with what its `token` function returns now). A fresh, valid token for
 *   the same user restores write access, and a sync step 1 pulls whatever
 *   was refused in between. A client may also push a new token at any time
 *   (`provider.sendToken()`), e.g. right after refreshing it.
 * - **Role change / removal / deletion.** Triggers on `space_members`,
 *   `spaces` and `users` NOTIFY `botsync_user_access` (persistence's
 *   migrations 4 and 5) with the user and the space, so a change made
 *   anywhere, psql included, reaches every instance on the database. A
 *   lower role makes the user's connections to that space read-only on the
 *   spot (`role-changed`), a higher one writable; a space being deleted
 *   turns read-only (`space-deleting`); a removed member's (or deleted
 *   user's) sockets to that space are closed with 4403 `access-revoked`
 *   (the reconnect is refused with `forbidden-space` / `user-not-found`).
 *
 * Why NOTIFY and not Redis: every instance shares the one PostgreSQL
 * anyway, the trigger also sees changes made behind the server's back, and
 * the embedded PGlite delivers NOTIFY in-process, so one mechanism covers
 * single and many instances, with or without REDIS_URL.
 */
export class LiveAccess implements Extension {
  extensionName = 'botsync-live-access'
  private readonly db: Database
  private readonly users: UserRepository
  private readonly members: SpaceMembers
  private readonly authenticator: Authenticator
  private readonly log: Logger
  private readonly byUser = new Map<string, Set<AdminConnection>>()
  private readonly expiryTimers = new Map<AdminConnection, NodeJS.Timeout>()
  private stopListening: (() => Promise<void>) | null = null

  constructor(options: { db: Database; users: UserRepository; members: SpaceMembers; authenticator: Authenticator; log: Logger }) {
    this.db = options.db
    this.users = options.users
    this.members = options.members
    this.authenticator = options.authenticator
    this.log = options.log
  }

  async start(): Promise<void> {
    this.stopListening = await this.db.listen(USER_ACCESS_CHANNEL, {
      onNotify: (payload) => this.onUserChanged(payload),
      // Changes while the link was down were not heard: check everyone.
      onReconnect: () => void this.recheckAll(),
    })
  }

  async stop(): Promise<void> {
    for (const timer of this.expiryTimers.values()) clearTimeout(timer)
    this.expiryTimers.clear()
    await this.stopListening?.()
    this.stopListening = null
  }

  /** Open admin connections on this instance (for tests and /health). */
  get connections(): number {
    return this.expiryTimers.size
  }

  async connected({ connection }: connectedPayload<ConnectionContext>): Promise<void> {
    const principal = connection.context.principal
    if (principal?.kind !== 'admin') return
    let set = this.byUser.get(principal.userId)
    if (!set) this.byUser.set(principal.userId, (set = new Set()))
    set.add(connection)
    this.scheduleExpiry(connection, principal.expiresAt)
    connection.onClose(() => this.forget(connection))
    // A deleting space opens read-only: say why.
    if (connection.context.spaceDeleting) connection.sendStateless(accessNotice('space-deleting', connection.context.role, connection.document.name))
    // Last seen: at most one cheap UPDATE per user a minute.
    void this.users.touch(principal.userId).catch((error) => this.log.warn({ event: 'last-seen-failed', user: principal.userId, err: error }))
    // The row was read in onAuthenticate; a change between that read and
    // this registration was notified to nobody, so read it once more. Only
    // for this connection: the user's others were registered and heard it
    // (re-applying it to all of them made 1,000 connections of one user cost
    // 500,000 documentAccess calls, ~0.35 ms of event loop per connect).
    const space = connection.context.space
    try {
      this.apply(principal.userId, space, await this.members.access(space, principal.userId), connection)
    } catch (error) {
      this.log.warn({ event: 'access-recheck-failed', user: principal.userId, space, err: error }, 'could not re-read a membership; will apply the next change notified')
    }
  }

  /** The client's answer to a token request, or a token it pushed on its own. */
  async onTokenSync({ token, connection, documentName }: onTokenSyncPayload<ConnectionContext>): Promise<void> {
    const current = connection.context.principal
    if (current?.kind !== 'admin') return
    let access
    try {
      access = await this.authenticator.authorizeDocument(token, documentName)
    } catch (error) {
      const reason = error instanceof AccessDenied ? error.reason : 'permission-denied'
      this.log.info({ event: 'token-sync-refused', reason, user: current.userId, document: documentName, socket: connection.socketId })
      if (reason === 'user-not-found' || reason === 'forbidden-space' || reason === 'unknown-space') this.revoke(connection)
      // Otherwise the connection keeps what it has (read-only once expired);
      // throwing would make Hocuspocus drop the document from the socket.
      return
    }
    if (access.principal.kind !== 'admin' || access.principal.userId !== current.userId) {
      this.log.warn({ event: 'token-sync-refused', reason: 'token-user-mismatch', user: current.userId, document: documentName, socket: connection.socketId })
      return
    }
    connection.context.principal = access.principal
    connection.context.role = access.role
    connection.context.spaceDeleting = access.spaceDeleting
    connection.context.tokenExpired = false
    this.scheduleExpiry(connection, access.principal.expiresAt)
    this.setAccess(connection, access.readOnly, access.readOnly ? (access.spaceDeleting ? 'space-deleting' : 'role-changed') : null)
  }

  private forget(connection: AdminConnection): void {
    const timer = this.expiryTimers.get(connection)
    if (timer) clearTimeout(timer)
    this.expiryTimers.delete(connection)
    const principal = connection.context.principal
    if (principal?.kind !== 'admin') return
    const set = this.byUser.get(principal.userId)
    set?.delete(connection)
    if (set?.size === 0) this.byUser.delete(principal.userId)
  }

  private scheduleExpiry(connection: AdminConnection, expiresAt: number): void {
    const previous = this.expiryTimers.get(connection)
    if (previous) clearTimeout(previous)
    const timer = setTimeout(
      () => {
        if (Date.now() < expiresAt) return this.scheduleExpiry(connection, expiresAt)
        this.expire(connection)
      },
      Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - Date.now())),
    )
    timer.unref()
    this.expiryTimers.set(connection, timer)
  }

  private expire(connection: AdminConnection): void {
    if (connection.context.tokenExpired) return
    connection.context.tokenExpired = true
    const principal = connection.context.principal
    this.log.info({ event: 'token-expired', user: principal?.kind === 'admin' ? principal.userId : undefined, document: connection.document.name, socket: connection.socketId })
    this.setAccess(connection, true, 'token-expired')
    // A provider whose token is a function answers with a fresh one, if it has it.
    connection.requestToken()
  }

  private onUserChanged(payload: string): void {
    let change: { id?: unknown; space?: unknown; all?: unknown; sessions?: unknown }
    try {
      change = JSON.parse(payload)
    } catch {
      return
    }
    if (change.sessions === 'revoked') return this.sessionsRevoked(String(change.id))
    if (change.all === true) {
      void this.recheckAll()
      return
    }
    const space = typeof change.space === 'string' ? change.space : null
    if (change.id === undefined) {
      // A space started or stopped deleting: everyone connected to it.
      if (space !== null) void this.recheckWhere(() => true, space)
      return
    }
    const id = String(change.id)
    if (!this.byUser.has(id)) return
    void this.recheck(id, space)
  }

  /**
   * Log out everywhere (RefreshSessions.revokeAll): the user's sockets here
   * are closed with 4403 `session-revoked`, so the admin's tabs find out now
   * (they try to refresh, fail and show the login page). The access tokens
   * themselves stay valid until their expiry (JWT_TTL_SECONDS): a client that
   * reconnects with one is let in and turned read-only at its `exp`, as any
   * connection whose token expires.
   */
  private sessionsRevoked(userId: string): void {
    for (const connection of [...(this.byUser.get(userId) ?? [])]) this.revoke(connection, SESSION_ERRORS.revoked)
  }

  private async recheckAll(): Promise<void> {
    await Promise.all([...this.byUser.keys()].map((id) => this.recheck(id, null)))
  }

  private async recheckWhere(user: (id: string) => boolean, space: string): Promise<void> {
    await Promise.all([...this.byUser.keys()].filter(user).map((id) => this.recheck(id, space)))
  }

  /** Re-reads the user's access to `space` (null: every space they are connected to here) and applies it. */
  private async recheck(userId: string, space: string | null): Promise<void> {
    const spaces = new Set<string>()
    for (const connection of this.byUser.get(userId) ?? []) {
      if (space === null || connection.context.space === space) spaces.add(connection.context.space)
    }
    await Promise.all(
      [...spaces].map(async (name) => {
        try {
          this.apply(userId, name, await this.members.access(name, userId))
        } catch (error) {
          this.log.warn({ event: 'access-recheck-failed', user: userId, space: name, err: error }, 'could not re-read a membership; will apply the next change notified')
        }
      }),
    )
  }

  /** The user's access to one space now, applied to each of their connections to it here (or to `only`). */
  private apply(userId: string, space: string, access: SpaceAccessRow, only?: AdminConnection): void {
    const connections = this.byUser.get(userId)
    // `only` may have closed (and been forgotten) while its row was read.
    for (const connection of only ? (connections?.has(only) ? [only] : []) : [...(connections ?? [])]) {
      if (connection.context.space !== space) continue
      let next
      try {
        next = documentAccess(access, space, connection.document.name)
      } catch {
        // Removed from the space (or the user or the space is gone).
        this.revoke(connection)
        continue
      }
      const before = connection.context.role
      if (before !== next.role) {
        this.log.info({ event: 'role-changed', user: userId, space, from: before, to: next.role, document: connection.document.name, socket: connection.socketId })
        connection.context.role = next.role
      }
      connection.context.spaceDeleting = next.spaceDeleting
      const readOnly = connection.context.tokenExpired === true || next.readOnly
      const reason = connection.context.tokenExpired ? 'token-expired' : next.spaceDeleting ? 'space-deleting' : 'role-changed'
      this.setAccess(connection, readOnly, readOnly ? reason : null)
    }
  }

  /** The user lost this space (removed, deleted, space purged) or logged out everywhere: nothing more from this socket, and it reconnects into the refusal. */
  private revoke(connection: AdminConnection, reason = 'access-revoked'): void {
    connection.readOnly = true
    this.forget(connection)
    const principal = connection.context.principal
    this.log.info({ event: reason, user: principal?.kind === 'admin' ? principal.userId : undefined, document: connection.document.name, socket: connection.socketId })
    connection.webSocket.close(4403, reason)
  }

  private setAccess(connection: AdminConnection, readOnly: boolean, reason: AccessLossReason | null): void {
    // The context, not the connection: DurablePersistence makes a connection
    // read-only for the one message it refuses, and restores it from the context.
    if (connection.context.readOnly === readOnly) return
    connection.readOnly = readOnly
    connection.context.readOnly = readOnly
    // The provider's `authenticated` event carries the scope: the admin shows the pages read-only or editable again.
    connection.send(new OutgoingMessage(connection.messageAddress).writeAuthenticated(readOnly).toUint8Array())
    if (readOnly && reason) {
      connection.sendStateless(accessNotice(reason, connection.context.role ?? 'unknown', connection.document.name))
    } else if (!readOnly) {
      // Changes refused while read-only are still on the client: a sync step 1 asks for them.
      connection.send(new OutgoingMessage(connection.messageAddress).createSyncMessage().writeFirstSyncStepFor(connection.document).toUint8Array())
    }
  }
}

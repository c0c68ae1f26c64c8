import { createHash, randomBytes } from 'node:crypto'
import type { Database, Queryable } from '@botsync/persistence'
import type { InviteKind, InviteView } from '@botsync/shared-docs'
import type { AdminRole } from './roles.ts'

/** How long a link is valid. */
export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000

export interface Invite {
  id: string
  space: string
  spaceName: string
  email: string
  role: AdminRole
  kind: InviteKind
  /** A reset's user (null for invites). */
  userId: string | null
  createdAt: number
  expiresAt: number
  usedAt: number | null
}

interface InviteRow {
  id: string
  space: string
  space_name: string
  email: string
  role: AdminRole
  kind: InviteKind
  user_id: string | null
  created_at: Date
  expires_at: Date
  used_at: Date | null
}

/** Why a link cannot be used: 404 `invite-not-found`, 410 `invite-expired` / `invite-used`. */
export class InviteUnusable extends Error {
  readonly code: 'invite-not-found' | 'invite-expired' | 'invite-used'
  constructor(code: InviteUnusable['code']) {
    super(code === 'invite-not-found' ? 'no such invite link' : code === 'invite-expired' ? 'this link has expired; ask for a new one' : 'this link was already used')
    this.code = code
  }
}

const COLUMNS = `i.id::text, i.space, s.name AS space_name, i.email, i.role, i.kind, i.user_id::text, i.created_at, i.expires_at, i.used_at`

/**
 * One-time links: invites to a space and password resets. The token (32
 * random bytes, base64url) is shown once, to the owner who made it; only its
 * sha256 is stored, so the table alone opens nothing. Valid 7 days, used once.
 */
export class Invites {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  async create(input: {
    space: string
    email: string
    role: AdminRole
    kind: InviteKind
    userId?: string | null
    createdBy: string
  }): Promise<{ id: string; token: string; expiresAt: number }> {
    const token = randomBytes(32).toString('base64url')
    const expiresAt = new Date(Date.now() + INVITE_TTL_MS)
    const rows = await this.db.query<{ id: string }>(
      `INSERT INTO invites (token_hash, space, email, role, kind, user_id, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
      [tokenHash(token), input.space, input.email, input.role, input.kind, input.userId ?? null, input.createdBy, expiresAt],
    )
    return { id: rows[0].id, token, expiresAt: expiresAt.getTime() }
  }

  /** The usable link of this token; InviteUnusable otherwise. */
  async find(token: string): Promise<Invite> {
    return usable(await this.row(this.db, token, false))
  }

  /**
   * Uses the link once: locks its row, checks it is still usable, runs
   * `apply` in the same transaction and marks the link used; a second
   * accept, even a concurrent one, gets `invite-used`.
   */
  async redeem<T>(token: string, apply: (invite: Invite, tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      const invite = usable(await this.row(tx, token, true))
      const result = await apply(invite, tx)
      await tx.query('UPDATE invites SET used_at = now() WHERE id = $1', [invite.id])
      return result
    })
  }

  /** Links of a space not used and not expired yet. */
  async pending(space: string): Promise<InviteView[]> {
    const rows = await this.db.query<InviteRow>(
      `SELECT ${COLUMNS} FROM invites i JOIN spaces s ON s.id = i.space WHERE i.space = $1 AND i.used_at IS NULL AND i.expires_at > now() ORDER BY i.id`,
      [space],
    )
    return rows.map((row) => {
      const invite = toInvite(row)
      return { id: invite.id, email: invite.email, role: invite.role, kind: invite.kind, createdAt: invite.createdAt, expiresAt: invite.expiresAt }
    })
  }

  /** False: no pending link with that id in that space. */
  async revoke(space: string, id: string): Promise<boolean> {
    if (!/^[0-9]{1,18}$/.test(id)) return false
    const rows = await this.db.query('DELETE FROM invites WHERE id = $1 AND space = $2 AND used_at IS NULL RETURNING id', [id, space])
    return rows.length > 0
  }

  private async row(db: Queryable, token: string, lock: boolean): Promise<Invite | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null
    const rows = await db.query<InviteRow>(`SELECT ${COLUMNS} FROM invites i JOIN spaces s ON s.id = i.space WHERE i.token_hash = $1${lock ? ' FOR UPDATE OF i' : ''}`, [
      tokenHash(token),
    ])
    return rows[0] ? toInvite(rows[0]) : null
  }
}

function usable(invite: Invite | null): Invite {
  if (!invite) throw new InviteUnusable('invite-not-found')
  if (invite.usedAt !== null) throw new InviteUnusable('invite-used')
  if (invite.expiresAt <= Date.now()) throw new InviteUnusable('invite-expired')
  return invite
}

function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

function toInvite(row: InviteRow): Invite {
  return {
    id: row.id,
    space: row.space,
    spaceName: row.space_name,
    email: row.email,
    role: row.role,
    kind: row.kind,
    userId: row.user_id,
    createdAt: row.created_at.getTime(),
    expiresAt: row.expires_at.getTime(),
    usedAt: row.used_at ? row.used_at.getTime() : null,
  }
}

import type { Database, Queryable } from '@botsync/persistence'
import type { MemberView, SpaceSummary } from '@botsync/shared-docs'
import { Conflict, type AdminRole } from './roles.ts'

/** What one check of a user against a space finds (one round trip: authorizeDocument and LiveAccess run it per connection). */
export interface SpaceAccessRow {
  /** False: no such space (`unknown-space`). */
  exists: boolean
  /** When the space will be purged (ms), or null: not being deleted. */
  deletingAt: number | null
  /** The user's role there; null: not a member (`forbidden-space`). */
  role: AdminRole | null
}

/**
 * Who belongs to which space, with which role (space_members). A trigger on
 * the table NOTIFYs every instance of each change (LiveAccess applies it to
 * open connections), so nothing here needs to tell anyone.
 *
 * A space keeps at least one owner: setRole and remove lock the space's
 * member rows (SELECT … FOR UPDATE) before counting owners, so two
 * concurrent demotions of the last two owners cannot both pass.
 */
export class SpaceMembers {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  async access(space: string, userId: string): Promise<SpaceAccessRow> {
    const rows = await this.db.query<{ deleting_at: Date | null; role: AdminRole | null }>(
      `SELECT s.deleting_at, m.role FROM spaces s LEFT JOIN space_members m ON m.space = s.id AND m.user_id = $2 WHERE s.id = $1`,
      [space, /^[0-9]{1,18}$/.test(userId) ? userId : '0'],
      { prepare: 'botsync-space-access' },
    )
    if (!rows[0]) return { exists: false, deletingAt: null, role: null }
    return { exists: true, deletingAt: rows[0].deleting_at ? rows[0].deleting_at.getTime() : null, role: rows[0].role }
  }

  async roleOf(space: string, userId: string): Promise<AdminRole | null> {
    return (await this.access(space, userId)).role
  }

  async list(space: string): Promise<MemberView[]> {
    const rows = await this.db.query<{ user_id: string; email: string; name: string; role: AdminRole; last_seen_at: Date | null }>(
      `SELECT m.user_id::text, u.email, u.name, m.role, u.last_seen_at FROM space_members m JOIN users u ON u.id = m.user_id
       WHERE m.space = $1 ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END, u.email`,
      [space],
    )
    return rows.map((row) => ({ userId: row.user_id, email: row.email, name: row.name, role: row.role, lastSeenAt: row.last_seen_at ? row.last_seen_at.getTime() : null }))
  }

  async get(space: string, userId: string): Promise<MemberView | null> {
    return (await this.list(space)).find((member) => member.userId === userId) ?? null
  }

  /** 409 `already-member` if the user is one. */
  async add(space: string, userId: string, role: AdminRole, tx: Queryable = this.db): Promise<void> {
    const rows = await tx.query(`INSERT INTO space_members (space, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING user_id`, [space, userId, role])
    if (rows.length === 0) throw new Conflict('already-member', 'that user is already a member of this space')
  }

  /** The new role; null: not a member. 409 `last-owner` when it would leave the space without an owner. */
  async setRole(space: string, userId: string, role: AdminRole): Promise<AdminRole | null> {
    return this.db.transaction(async (tx) => {
      // Making someone an owner never leaves the space without one.
      const current = await this.lockedRole(tx, space, userId, role !== 'owner')
      if (current === null) return null
      await tx.query('UPDATE space_members SET role = $3 WHERE space = $1 AND user_id = $2', [space, userId, role])
      return role
    })
  }

  /** False: not a member. 409 `last-owner` when the member is the space's last owner. */
  async remove(space: string, userId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if ((await this.lockedRole(tx, space, userId, true)) === null) return false
      await tx.query('DELETE FROM space_members WHERE space = $1 AND user_id = $2', [space, userId])
      return true
    })
  }

  /** The caller's memberships, for GET /api/spaces and /api/me. */
  async spacesOf(userId: string): Promise<SpaceSummary[]> {
    const rows = await this.db.query<{ id: string; name: string; role: AdminRole; deleting_at: Date | null }>(
      `SELECT s.id, s.name, m.role, s.deleting_at FROM space_members m JOIN spaces s ON s.id = m.space WHERE m.user_id = $1 ORDER BY s.id`,
      [userId],
    )
    return rows.map((row) => ({ id: row.id, name: row.name, role: row.role, deletingAt: row.deleting_at ? row.deleting_at.getTime() : null }))
  }

  /**
   * Locks every member row of the space (so owner counts are serialised),
   * then: the member's role, or null if not a member; throws `last-owner`
   * if they are the only owner (the caller is about to demote or remove them).
   */
  private async lockedRole(tx: Queryable, space: string, userId: string, losingOwner: boolean): Promise<AdminRole | null> {
    const rows = await tx.query<{ user_id: string; role: AdminRole }>('SELECT user_id::text, role FROM space_members WHERE space = $1 ORDER BY user_id FOR UPDATE', [space])
    const member = rows.find((row) => row.user_id === userId)
    if (!member) return null
    if (losingOwner && member.role === 'owner' && rows.filter((row) => row.role === 'owner').length === 1) {
      throw new Conflict('last-owner', 'a space keeps at least one owner: make someone else an owner first')
    }
    return member.role
  }
}

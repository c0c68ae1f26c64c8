import type { Database } from '@botsync/persistence'
import { isSpaceId } from '@botsync/shared-docs'
import { Conflict } from './roles.ts'

export interface Space {
  id: string
  name: string
  createdAt: number
  /** When the sweeper purges it (ms); null: not being deleted. */
  deletingAt: number | null
}

interface SpaceRow {
  id: string
  name: string
  created_at: Date
  deleting_at: Date | null
}

/**
 * The spaces table: a space exists because someone created it (or the
 * server ensured it: the demo space, BOT_SPACE), never because a document
 * name was typed. Deleting is two steps: markDeleting sets when it will be
 * purged (its documents open read-only meanwhile, restore cancels), and
 * purgeExpired, run by a sweeper on every instance, removes what is due.
 */
export class Spaces {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  async get(id: string): Promise<Space | null> {
    if (!isSpaceId(id)) return null
    const rows = await this.db.query<SpaceRow>('SELECT id, name, created_at, deleting_at FROM spaces WHERE id = $1', [id])
    return rows[0] ? toSpace(rows[0]) : null
  }

  /** A new space with `ownerUserId` as its owner; 409 `space-exists`. */
  async create(input: { id: string; name: string }, ownerUserId: string): Promise<Space> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<SpaceRow>('INSERT INTO spaces (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id, name, created_at, deleting_at', [
        input.id,
        input.name,
      ])
      if (!rows[0]) throw new Conflict('space-exists', `a space "${input.id}" already exists`)
      await tx.query(`INSERT INTO space_members (space, user_id, role) VALUES ($1, $2, 'owner')`, [input.id, ownerUserId])
      return toSpace(rows[0])
    })
  }

  /** Idempotent, safe from several instances at once; `owner` (a user id) is added as an owner if the space has none. */
  async ensure(id: string, name: string = id, owner?: string): Promise<void> {
    await this.db.query('INSERT INTO spaces (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, name])
    if (owner) {
      await this.db.query(
        `INSERT INTO space_members (space, user_id, role) SELECT $1, $2, 'owner'
         WHERE NOT EXISTS (SELECT 1 FROM space_members WHERE space = $1 AND role = 'owner') ON CONFLICT DO NOTHING`,
        [id, owner],
      )
    }
  }

  /** Starts the grace period; the new purge time, or null if there is no such space. A space already deleting keeps its time. */
  async markDeleting(id: string, graceSeconds: number): Promise<number | null> {
    const rows = await this.db.query<{ deleting_at: Date }>(
      `UPDATE spaces SET deleting_at = COALESCE(deleting_at, now() + make_interval(secs => $2)) WHERE id = $1 RETURNING deleting_at`,
      [id, graceSeconds],
    )
    return rows[0] ? rows[0].deleting_at.getTime() : null
  }

  /** Cancels a deletion; false if there is no such space. */
  async restore(id: string): Promise<boolean> {
    const rows = await this.db.query('UPDATE spaces SET deleting_at = NULL WHERE id = $1 RETURNING id', [id])
    return rows.length > 0
  }

  /**
   * Removes every space whose grace has passed: its documents and log rows
   * (`<space>/…`), then the row (members and invites cascade; the members
   * trigger closes their sockets everywhere). One transaction per space,
   * rows claimed with SKIP LOCKED, so instances sweeping at once never
   * purge one space twice or wait for each other.
   */
  async purgeExpired(): Promise<string[]> {
    const purged: string[] = []
    for (;;) {
      const id = await this.db.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>('SELECT id FROM spaces WHERE deleting_at <= now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED')
        if (!rows[0]) return null
        const space = rows[0].id
        // Not LIKE: `_` in a space id is a LIKE wildcard.
        const prefix = "left(name, length($1) + 1) = $1 || '/'"
        await tx.query(`DELETE FROM document_updates WHERE ${prefix}`, [space])
        await tx.query(`DELETE FROM quarantined_updates WHERE ${prefix}`, [space])
        await tx.query(`DELETE FROM document_authorship WHERE ${prefix}`, [space])
        await tx.query(`DELETE FROM documents WHERE ${prefix}`, [space])
        await tx.query('DELETE FROM spaces WHERE id = $1', [space])
        return space
      })
      if (id === null) return purged
      purged.push(id)
    }
  }
}

function toSpace(row: SpaceRow): Space {
  return { id: row.id, name: row.name, createdAt: row.created_at.getTime(), deletingAt: row.deleting_at ? row.deleting_at.getTime() : null }
}

import type { Database, Queryable } from '@botsync/persistence'
import { PasswordHasher } from './passwords.ts'

/** A user; what they may do is per space (space_members). */
export interface User {
  id: string
  email: string
  name: string
}

/** A user as findById reads them: also `tokensValidAfter` (ms), the last log-out-everywhere or reset, null if none. */
export interface StoredUser extends User {
  tokensValidAfter: number | null
}

interface UserRow {
  id: number
  email: string
  name: string
  password_hash: string
  tokens_valid_after?: Date | string | null
}

/** last_seen_at is written at most this often per user (it is shown in minutes, not per message). */
const LAST_SEEN_STEP_SECONDS = 60

export class UserRepository {
  private readonly db: Database
  readonly passwords: PasswordHasher
  // Verified against when the email is unknown, so a miss costs as much as a
  // hit and response time does not reveal which emails exist.
  private decoyHash: Promise<string> | null = null
  /** When this process last wrote each user's last_seen_at (ms). */
  private readonly touchedAt = new Map<string, number>()

  constructor(db: Database, passwords: PasswordHasher = new PasswordHasher()) {
    this.db = db
    this.passwords = passwords
  }

  /** `passwordHash` instead of `password`: hashed beforehand, e.g. outside a transaction; `tx`: inside one. */
  async create(input: { email: string; name?: string; password?: string; passwordHash?: string }, tx: Queryable = this.db): Promise<User> {
    const email = normaliseEmail(input.email)
    const hash = input.passwordHash ?? (await this.passwords.hash(input.password ?? ''))
    const rows = await tx.query<UserRow>(`INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING id, email, name`, [
      email,
      input.name ?? email.split('@')[0],
      hash,
    ])
    return toUser(rows[0])
  }

  async setPasswordHash(userId: string, passwordHash: string, tx: Queryable = this.db): Promise<void> {
    await tx.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, passwordHash])
  }

  async count(): Promise<number> {
    const rows = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')
    return rows[0].n
  }

  async findByEmail(email: string, tx: Queryable = this.db): Promise<User | null> {
    const rows = await tx.query<UserRow>('SELECT id, email, name FROM users WHERE email = $1', [normaliseEmail(email)])
    return rows[0] ? toUser(rows[0]) : null
  }

  /** The user as the database has it now, or null once deleted; with tokens_valid_after (RefreshSessions.revokeAll). */
  async findById(id: string): Promise<StoredUser | null> {
    if (!/^[0-9]{1,18}$/.test(id)) return null
    // A new statement name with the new SQL: a name is bound to its SQL on each connection.
    const rows = await this.db.query<UserRow>('SELECT id, email, name, tokens_valid_after FROM users WHERE id = $1', [id], { prepare: 'botsync-user-by-id-v9' })
    const row = rows[0]
    if (!row) return null
    return { ...toUser(row), tokensValidAfter: row.tokens_valid_after == null ? null : new Date(row.tokens_valid_after).getTime() }
  }

  /**
   * Marks the user as seen now (login, connect); a no-op within a minute of
   * the last mark. Connects come once per document an admin opens (dozens
   * per page), so this process skips the round trip when it marked the user
   * itself within the step; the SQL condition covers the other instances.
   */
  async touch(id: string): Promise<void> {
    if (!/^[0-9]{1,18}$/.test(id)) return
    const now = Date.now()
    if (now - (this.touchedAt.get(id) ?? 0) < LAST_SEEN_STEP_SECONDS * 1000) return
    // Forgotten wholesale when large: the worst case is one extra UPDATE per user.
    if (this.touchedAt.size > 10_000) this.touchedAt.clear()
    this.touchedAt.set(id, now)
    await this.db.query(
      `UPDATE users SET last_seen_at = now() WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < now() - make_interval(secs => $2))`,
      [id, LAST_SEEN_STEP_SECONDS],
      { prepare: 'botsync-user-touch' },
    )
  }

  /** The user whose password matches, or null; equally slow either way. */
  async authenticate(email: string, password: string): Promise<User | null> {
    const rows = await this.db.query<UserRow>('SELECT * FROM users WHERE email = $1', [normaliseEmail(email)])
    const row = rows[0]
    this.decoyHash ??= this.passwords.hash('decoy password')
    const ok = await this.passwords.verify(password, row?.password_hash ?? (await this.decoyHash))
    return row && ok ? toUser(row) : null
  }
}

/** The form emails are stored, looked up and rate-limited in. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase()
}

function toUser(row: UserRow): User {
  return { id: String(row.id), email: row.email, name: row.name }
}

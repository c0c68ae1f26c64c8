import type { Database } from '@botsync/persistence'
import { PasswordHasher } from './passwords.ts'
import type { AdminRole } from './roles.ts'

export interface User {
  id: string
  email: string
  name: string
  role: AdminRole
}

interface UserRow {
  id: number
  email: string
  name: string
  role: AdminRole
  password_hash: string
}

export class UserRepository {
  private readonly db: Database
  readonly passwords: PasswordHasher
  // Verified against when the email is unknown, so a miss costs as much as a
  // hit and response time does not reveal which emails exist.
  private decoyHash: Promise<string> | null = null

  constructor(db: Database, passwords: PasswordHasher = new PasswordHasher()) {
    this.db = db
    this.passwords = passwords
  }

  async create(input: { email: string; name?: string; password: string; role: AdminRole }): Promise<User> {
    const email = normaliseEmail(input.email)
    const rows = await this.db.query<UserRow>(
      `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4)
       RETURNING id, email, name, role, password_hash`,
      [email, input.name ?? email.split('@')[0], await this.passwords.hash(input.password), input.role],
    )
    return toUser(rows[0])
  }

  async count(): Promise<number> {
    const rows = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users')
    return rows[0].n
  }

  async findByEmail(email: string): Promise<User | null> {
    const rows = await this.db.query<UserRow>('SELECT * FROM users WHERE email = $1', [normaliseEmail(email)])
    return rows[0] ? toUser(rows[0]) : null
  }

  /** The user as the database has it now (tokens only hint at the role), or null once deleted. */
  async findById(id: string): Promise<User | null> {
    if (!/^[0-9]{1,18}$/.test(id)) return null
    const rows = await this.db.query<UserRow>('SELECT id, email, name, role FROM users WHERE id = $1', [id], { prepare: 'botsync-user-by-id' })
    return rows[0] ? toUser(rows[0]) : null
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
  return { id: String(row.id), email: row.email, name: row.name, role: row.role }
}

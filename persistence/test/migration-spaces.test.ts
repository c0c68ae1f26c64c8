import { describe, expect, it } from 'vitest'
import { migrate, migrations } from '../src/index.ts'
import { PgliteDatabase } from '../src/pglite-database.ts'

describe('migration 5: spaces and members', () => {
  it('carries existing data over: a space per document prefix, every user a member of each with their old role, users.role dropped', async () => {
    // In-memory PGlite: a database at version 4, as a deployment before this migration has it.
    const db = await PgliteDatabase.open(undefined)
    try {
      await migrate(
        db,
        migrations.filter((m) => m.version <= 4),
      )
      await db.query(`INSERT INTO documents (name) VALUES ('demo/settings'), ('shop/buttons'), ('not a space!/x')`)
      await db.query(`INSERT INTO document_updates (name, update) VALUES ('logonly/settings', '\\x00')`)
      await db.query(`INSERT INTO users (email, name, password_hash, role) VALUES ('o@x', 'O', 'h', 'owner'), ('v@x', 'V', 'h', 'viewer')`)
      expect(await migrate(db)).toEqual(migrations.filter((m) => m.version > 4).map((m) => m.version))

      const spaces = await db.query<{ id: string }>('SELECT id FROM spaces ORDER BY id')
      expect(spaces.map((s) => s.id)).toEqual(['demo', 'logonly', 'shop'])
      const members = await db.query<{ space: string; email: string; role: string }>(
        'SELECT m.space, u.email, m.role FROM space_members m JOIN users u ON u.id = m.user_id ORDER BY m.space, u.email',
      )
      expect(members.map((m) => `${m.space} ${m.email} ${m.role}`)).toEqual([
        'demo o@x owner',
        'demo v@x viewer',
        'logonly o@x owner',
        'logonly v@x viewer',
        'shop o@x owner',
        'shop v@x viewer',
      ])
      const columns = await db.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'users'`)
      expect(columns.map((c) => c.column_name)).not.toContain('role')
      expect(columns.map((c) => c.column_name)).toContain('last_seen_at')
    } finally {
      await db.close()
    }
  })
})

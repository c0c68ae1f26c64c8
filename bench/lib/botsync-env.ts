import { randomBytes } from 'node:crypto'
import { openDatabase } from '@botsync/persistence'

export interface BotsyncAdmin {
  email: string
  password: string
}

/**
 * What every benchmark starts botsync with: any free port on loopback, its
 * own data directory, fresh secrets, an owner to log in as, no demo content,
 * info logs (ServerProcess waits for the info-level listening line), and no
 * per-address socket limit (all clients are on loopback).
 * Suites add their own settings (bot space, Redis, Telegram) on top.
 */
export function botsyncEnv(options: { databaseUrl: string; dataDir: string; admin?: BotsyncAdmin }): { env: Record<string, string>; admin: BotsyncAdmin } {
  const admin = options.admin ?? { email: `bench-${randomBytes(6).toString('hex')}@bench.local`, password: randomBytes(12).toString('base64url') }
  return {
    admin,
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      DATA_DIR: options.dataDir,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      BOT_SERVICE_TOKEN: randomBytes(16).toString('base64url'),
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
      // Every benchmark client connects from 127.0.0.1: one address, thousands of sockets.
      MAX_CONNECTIONS_PER_IP: '1000000',
      // Benchmark writers edit back to back, far faster than a person and
      // faster than the per-socket rate limit allows (that has its own tests);
      // vanilla Hocuspocus has no such limit either.
      MAX_UPDATES_PER_SECOND: '0',
    },
  }
}

/**
 * Makes the user of `email` an owner of `space` (creating the space's row):
 * roles are per space, and a benchmark's admin writes to spaces made up per
 * run. Run after a server has started (it creates the ADMIN_EMAIL user).
 */
export async function joinSpace(databaseUrl: string, email: string, space: string): Promise<void> {
  const db = await openDatabase({ databaseUrl })
  try {
    await db.query('INSERT INTO spaces (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [space])
    await db.query(`INSERT INTO space_members (space, user_id, role) SELECT $1, id, 'owner' FROM users WHERE email = $2 ON CONFLICT DO NOTHING`, [space, email.toLowerCase()])
  } finally {
    await db.close()
  }
}

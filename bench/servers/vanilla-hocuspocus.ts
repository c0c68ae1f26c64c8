// The baseline the durability benchmark compares botsync with: Hocuspocus as
// its documentation sets it up, with @hocuspocus/extension-database storing
// the whole document into PostgreSQL on its default debounce (2 s, at most
// 10 s). It acknowledges an update as soon as it is applied in memory, so its
// latency is the floor botsync's append-before-ack must approach, and what it
// has not stored yet is lost when the process dies.
//
// Env: PORT (0 = any), DATABASE_URL. Prints {"event":"listening","port":N}
// when ready and {"event":"stored",…} after each committed store.
import { Database } from '@hocuspocus/extension-database'
import { Server } from '@hocuspocus/server'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 10 })
pool.on('error', () => {})
await pool.query(`CREATE TABLE IF NOT EXISTS bench_vanilla_documents (
  name       text PRIMARY KEY,
  data       bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
)`)

const print = (event: Record<string, unknown>) => process.stdout.write(JSON.stringify(event) + '\n')

const server = new Server({
  port: Number(process.env.PORT ?? 0),
  address: '127.0.0.1',
  quiet: true,
  stopOnSignals: false,
  extensions: [
    new Database({
      fetch: async ({ documentName }) => {
        const { rows } = await pool.query<{ data: Buffer }>('SELECT data FROM bench_vanilla_documents WHERE name = $1', [documentName])
        return rows[0]?.data ?? null
      },
      store: async ({ documentName, state }) => {
        const startedAt = Date.now()
        await pool.query(
          `INSERT INTO bench_vanilla_documents (name, data, updated_at) VALUES ($1, $2, now())
           ON CONFLICT (name) DO UPDATE SET data = excluded.data, updated_at = now()`,
          [documentName, state],
        )
        print({ event: 'stored', document: documentName, bytes: state.byteLength, startedAt, finishedAt: Date.now() })
      },
    }),
  ],
})

await server.listen()
print({ event: 'listening', port: server.address.port })

process.once('SIGTERM', () => {
  // A clean stop stores what is still pending, like Hocuspocus' own signal handling.
  server
    .destroy()
    .then(() => pool.end())
    .then(
      () => process.exit(0),
      () => process.exit(1),
    )
})

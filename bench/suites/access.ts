// How fast open connections follow a change of their user's row. Two botsync
// instances (their own processes) share one PostgreSQL, no Redis; an editor
// has a provider open on each. The benchmark changes the role in SQL, the
// way an operator would in psql, and measures from sending it until each
// provider is told its new scope (the `authenticated` message LiveAccess
// sends): editor → viewer (`demote`) and back (`promote`), ROUNDS times.
// Then it deletes the user and measures until both sockets are closed with
// 4403. Target: every figure's p99 ≤ 1 s.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { openDatabase } from '@botsync/persistence'
import * as Y from 'yjs'
import { SpaceMembers, Spaces, UserRepository } from '@botsync/server'
import { login } from '@botsync/testkit/login'
import { botsyncEnv } from '../lib/botsync-env.ts'
import { latencySummary } from '../lib/percentiles.ts'
import { onInterrupt } from '../lib/interrupt-cleanup.ts'
import { ServerProcess } from '@botsync/testkit/server-process'

const ROUNDS = Number(process.env.BENCH_ACCESS_ROUNDS ?? 20)
const TARGET_P99_MS = 1_000
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

interface Client {
  provider: HocuspocusProvider
  socket: HocuspocusProviderWebsocket
  scope: string | null
  closedWith: number | null
  waiters: Array<() => void>
}

export default async function run(): Promise<Record<string, unknown>> {
  const db = await openDatabase({ databaseUrl: DATABASE_URL })
  const dirs: string[] = []
  const servers: ServerProcess[] = []
  const clients: Client[] = []
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-access-'))
    dirs.push(dataDir)
    const { env } = botsyncEnv({ databaseUrl: DATABASE_URL, dataDir })
    for (const label of ['botsync A', 'botsync B']) servers.push(await ServerProcess.spawn({ label, env, keepLines: 200, registerKill: onInterrupt }))

    const email = `bench-access-${randomUUID()}@bench.local`
    const user = await new UserRepository(db).create({ email, password: 'bench password' })
    const token = await login(servers[0].url, email, 'bench password')
    const space = `bench${randomUUID().replaceAll('-', '').slice(0, 10)}`
    await new Spaces(db).ensure(space)
    await new SpaceMembers(db).add(space, user.id, 'editor')
    const name = `${space}/settings`
    for (const server of servers) clients.push(await connect(`ws://127.0.0.1:${server.port}/collab`, name, token))

    const demote: number[] = []
    const promote: number[] = []
    for (let round = 0; round < ROUNDS; round += 1) {
      demote.push(...(await change(db, space, user.id, 'viewer', clients, 'readonly')))
      promote.push(...(await change(db, space, user.id, 'editor', clients, 'read-write')))
    }

    const started = performance.now()
    await db.query('DELETE FROM users WHERE id = $1', [user.id])
    await Promise.all(clients.map((client) => until(client, () => client.closedWith === 4403)))
    const deleteMs = performance.now() - started

    const figures = { demoteMs: latencySummary(demote), promoteMs: latencySummary(promote), deleteToCloseMs: Math.round(deleteMs * 100) / 100 }
    return {
      rounds: ROUNDS,
      instances: 2,
      ...figures,
      loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
      targets: {
        demoteP99: { target: `≤ ${TARGET_P99_MS} ms`, value: figures.demoteMs.p99, met: figures.demoteMs.p99 <= TARGET_P99_MS },
        promoteP99: { target: `≤ ${TARGET_P99_MS} ms`, value: figures.promoteMs.p99, met: figures.promoteMs.p99 <= TARGET_P99_MS },
        deleteToClose: { target: `≤ ${TARGET_P99_MS} ms`, value: figures.deleteToCloseMs, met: figures.deleteToCloseMs <= TARGET_P99_MS },
      },
    }
  } finally {
    for (const client of clients) {
      client.provider.destroy()
      client.socket.destroy()
    }
    await Promise.all(servers.map((server) => server.stop()))
    await db.close()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** One role change in SQL; per client, the time from sending it until the client has the expected scope. */
async function change(db: Awaited<ReturnType<typeof openDatabase>>, space: string, userId: string, role: string, clients: Client[], scope: string): Promise<number[]> {
  // From sending the (autocommitted) UPDATE: the NOTIFY can reach the
  // servers before the UPDATE's answer reaches us, so this includes it.
  const committed = performance.now()
  await db.query('UPDATE space_members SET role = $1 WHERE space = $2 AND user_id = $3', [role, space, userId])
  return Promise.all(
    clients.map(async (client) => {
      await until(client, () => client.scope === scope)
      return performance.now() - committed
    }),
  )
}

function until(client: Client, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for an access change to arrive')), timeoutMs)
    const waiter = () => {
      if (!check()) return
      clearTimeout(timer)
      client.waiters.splice(client.waiters.indexOf(waiter), 1)
      resolve()
    }
    client.waiters.push(waiter)
  })
}

async function connect(url: string, name: string, token: string): Promise<Client> {
  // The benchmark watches the first close: no reconnection afterwards.
  const socket = new HocuspocusProviderWebsocket({ url, maxAttempts: 1 })
  const client: Client = { provider: null as unknown as HocuspocusProvider, socket, scope: null, closedWith: null, waiters: [] }
  const notify = () => {
    for (const waiter of [...client.waiters]) waiter()
  }
  socket.on('close', ({ event }: { event: { code: number } }) => {
    client.closedWith ??= event.code
    notify()
  })
  client.provider = new HocuspocusProvider({
    websocketProvider: socket,
    name,
    document: new Y.Doc(),
    token,
    onAuthenticated: ({ scope }) => {
      client.scope = scope
      notify()
    },
  })
  client.provider.attach()
  await until(client, () => client.scope === 'read-write')
  return client
}

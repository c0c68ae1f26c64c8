// Exact activity counters across instances: two server processes on one
// PostgreSQL and Redis each take 1,000 events at the same time; every
// instance, and the admin reading through projectActivity, sees 2,000.
import { randomBytes } from 'node:crypto'
import { counterKey, docName, projectActivity } from '@botsync/shared-docs'
import { afterEach, expect, it } from 'vitest'
import { BOT_TOKEN, connect, login, spawnServer, synced, uniqueSpace, waitFor, type ServerProcess, type TestClient } from '@botsync/testkit/server'
import { SHARED_REDIS_URL, uniquePrefix } from './redis-helpers.ts'

const EVENTS_PER_INSTANCE = 1000
const EVENTS_PER_REQUEST = 10
const REQUESTS_IN_FLIGHT = 8

const processes: ServerProcess[] = []
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy()
  await Promise.all(processes.splice(0).map((process) => process.stop()))
})

/** Posts `total` user_started events to one instance, several requests at a time; returns how many it accepted. */
async function report(server: ServerProcess, total: number): Promise<number> {
  let next = 0
  let accepted = 0
  const worker = async (): Promise<void> => {
    while (next < total) {
      const count = Math.min(EVENTS_PER_REQUEST, total - next)
      next += count
      const events = Array.from({ length: count }, () => ({ type: 'user_started', at: Date.now() }))
      const response = await fetch(`${server.url}/api/activity`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BOT_TOKEN}` },
        body: JSON.stringify({ events }),
      })
      expect(response.status).toBe(200)
      accepted += ((await response.json()) as { accepted: number }).accepted
    }
  }
  await Promise.all(Array.from({ length: REQUESTS_IN_FLIGHT }, worker))
  return accepted
}

it('two instances taking 1,000 activity events each at once count exactly 2,000', async () => {
  const space = uniqueSpace()
  const prefix = uniquePrefix()
  const email = `owner-${randomBytes(4).toString('hex')}@test.local`
  const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, BOT_SPACE: space, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'many instances' }
  const a = await spawnServer({ ...env, INSTANCE_ID: `${prefix}-a` })
  processes.push(a)
  const b = await spawnServer({ ...env, INSTANCE_ID: `${prefix}-b` })
  processes.push(b)

  // An admin on each instance has the activity document open (loaded on both) while the events arrive.
  const token = await login(a.url, email, 'many instances')
  const onA = connect(a.wsUrl, docName.activity(space), token)
  const onB = connect(b.wsUrl, docName.activity(space), token)
  clients.push(onA, onB)
  await Promise.all([synced(onA), synced(onB)])

  const accepted = await Promise.all([report(a, EVENTS_PER_INSTANCE), report(b, EVENTS_PER_INSTANCE)])
  expect(accepted).toEqual([EVENTS_PER_INSTANCE, EVENTS_PER_INSTANCE])

  const started = (client: TestClient): number => projectActivity(client.doc).counters[counterKey.usersStarted] ?? 0
  // Every request was answered, so every batch is committed; fan-out brings each instance the other's.
  // (Waiting gives up quietly: the assertions below say what was counted.)
  const everything = 2 * EVENTS_PER_INSTANCE
  await waitFor(() => started(onA) >= everything && started(onB) >= everything, 'both admins to see every event', 15_000).catch(() => {})
  expect(started(onA)).toBe(everything)
  expect(started(onB)).toBe(everything)

  // And what PostgreSQL holds: a fresh admin on a fresh connection reads the same.
  const fresh = connect(b.wsUrl, docName.activity(space), token)
  clients.push(fresh)
  await synced(fresh)
  expect(started(fresh)).toBe(2 * EVENTS_PER_INSTANCE)
}, 90_000)

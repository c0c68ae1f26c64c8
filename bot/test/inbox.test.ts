// The bot never loses an update: the durable inbox across a SIGKILL, one
// poller among several instances, and webhook mode on several instances.
// Real server processes (embedded bot), PostgreSQL and the fake Bot API.
import { afterEach, expect, it } from 'vitest'
import { spawnServer, type ServerProcess } from '@botsync/testkit/server'
import { FakeBotApi, type RecordedCall } from '@botsync/testkit/fake-bot-api'
import { PgPoolClient } from '../src/session/pg-pool-client.ts'
import { DATABASE_URL, TELEGRAM_TOKEN, uniqueSpace, waitFor } from './helpers.ts'

const BOT_ID = Number(TELEGRAM_TOKEN.split(':')[0])
const WEBHOOK_URL = 'https://bot.example.test/telegram/webhook'

let api: FakeBotApi | undefined
const servers: ServerProcess[] = []
const pools: PgPoolClient[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL')
  for (const pool of pools.splice(0)) await pool.close()
  await api?.stop()
  api = undefined
})

async function startInstance(env: Record<string, string>): Promise<ServerProcess> {
  const server = await spawnServer(env)
  servers.push(server)
  await waitFor(() => server.output.some((line) => line.includes('"bot-started"')), 'the embedded bot to start', 30_000)
  return server
}

async function botRole(server: ServerProcess): Promise<string | undefined> {
  // /health's bot part is per space; these servers run one bot (BOT_SPACE's).
  const health = (await (await fetch(`http://127.0.0.1:${server.port}/health`)).json()) as { bot?: Record<string, { role?: string }> }
  return Object.values(health.bot ?? {})[0]?.role
}

const sendsTo = (chatId: number): RecordedCall[] => api!.calls.filter((c) => c.method === 'sendMessage' && c.status === 200 && Number(c.params['chat_id']) === chatId)
const conflicts = (): RecordedCall[] => api!.calls.filter((c) => c.status === 409)

it('SIGKILL with 40 /start in flight, restart on the same database: all 40 users are answered; duplicates only for sends in flight at the kill', async () => {
  api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  const env = { BOT_SPACE: uniqueSpace(), TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot }
  const first = await startInstance(env)
  const users = Array.from({ length: 40 }, (_, i) => ({ id: 5_100 + i, first_name: `Kill ${i}` }))
  const since = api.mark()
  for (const user of users) api.sendCommand(user, 'start')
  // The bot has fetched the updates and is answering: kill it at its first answer.
  await api.waitForCall((call) => call.method === 'sendMessage', { since, timeoutMs: 15_000 })
  first.child.kill('SIGKILL')
  const killedAt = Date.now()
  await first.exited
  const answeredBeforeKill = users.filter((user) => sendsTo(user.id).length > 0).length

  await startInstance(env)
  // Not answered by then: the assertion below says how many.
  await waitFor(() => users.every((user) => sendsTo(user.id).length > 0), 'every user to be answered after the restart', 30_000).catch(() => {})
  // Give replays time to show up as duplicates, if there were to be any more.
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  const unanswered = users.filter((user) => sendsTo(user.id).length === 0).length
  const duplicated = users.filter((user) => sendsTo(user.id).length > 1)
  const lastBeforeKill = Math.max(
    ...users.flatMap((user) =>
      sendsTo(user.id)
        .filter((c) => c.at <= killedAt)
        .map((c) => c.at),
    ),
  )
  console.log(
    `[inbox] SIGKILL with 40 /start in flight: ${answeredBeforeKill} answered before the kill, ${40 - unanswered}/40 answered after the restart, ${duplicated.length} duplicate(s)` +
      (duplicated.length ? ` (first answers at ${duplicated.map((u) => killedAt - sendsTo(u.id)[0].at).join(', ')} ms before the kill)` : ''),
  )
  expect(unanswered, `${unanswered} of 40 users never answered`).toBe(0)
  // Nobody is answered three times, and a duplicate is only possible for an
  // answer sent in the last instant before the kill (sent, not yet committed):
  // its first answer is among the very last ones before the kill.
  expect(users.filter((user) => sendsTo(user.id).length > 2)).toEqual([])
  for (const user of duplicated) expect(lastBeforeKill - sendsTo(user.id)[0].at).toBeLessThan(250)
  expect(duplicated.length).toBeLessThanOrEqual(answeredBeforeKill)
}, 90_000)

it('two instances polling: one poller and one standby, no 409; SIGKILL the poller and the standby answers a new /start within 5 s', async () => {
  api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  const env = { BOT_SPACE: uniqueSpace(), TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot }
  const a = await startInstance(env)
  const b = await startInstance(env)
  const before = { id: 5_201, first_name: 'Before' }
  let since = api.mark()
  api.sendCommand(before, 'start')
  await api.nextMessageTo(before.id, { since, timeoutMs: 10_000 })
  // Long enough for a second poller to have collided with the first many times.
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  expect(conflicts().map((c) => `${c.method} ${c.status} ${c.response.ok ? '' : c.response.description}`)).toEqual([])
  expect(api.calls.filter((c) => c.method === 'getUpdates').length).toBeGreaterThan(0)
  const roles = [await botRole(a), await botRole(b)]
  expect([...roles].sort()).toEqual(['poller', 'standby'])
  const [leader, standby] = roles[0] === 'poller' ? [a, b] : [b, a]

  leader.child.kill('SIGKILL')
  const killedAt = Date.now()
  const after = { id: 5_202, first_name: 'After' }
  since = api.mark()
  api.sendCommand(after, 'start')
  const answer = await api.nextMessageTo(after.id, { since, timeoutMs: 5_000 })
  console.log(`[inbox] takeover: the standby answered a /start ${answer.at - killedAt} ms after the poller was killed`)
  expect(answer.at - killedAt).toBeLessThanOrEqual(5_000)
  expect(await botRole(standby)).toBe('poller')
  expect(conflicts()).toEqual([])
}, 90_000)

it('webhook mode on two instances: 200 updates delivered alternately are each handled exactly once, chats in order; wrong secret 401, not JSON 400, over 1 MB 413, none recorded', async () => {
  api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  const space = uniqueSpace()
  const env = { BOT_SPACE: space, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_URL: WEBHOOK_URL }
  const a = await startInstance(env)
  const b = await startInstance(env)
  expect([await botRole(a), await botRole(b)]).toEqual(['webhook', 'webhook'])
  const setWebhook = api.callsOf('setWebhook')
  expect(setWebhook.map((c) => c.params['url'])).toEqual([WEBHOOK_URL, WEBHOOK_URL])
  const secret = String(setWebhook[0].params['secret_token'])
  expect(secret).toMatch(/^[A-Za-z0-9_-]{32,}$/)
  expect(setWebhook[1].params['secret_token']).toBe(secret)
  const origins = [a, b].map((s) => `http://127.0.0.1:${s.port}`)
  api.routeWebhookTo(origins)

  const users = Array.from({ length: 100 }, (_, i) => ({ id: 5_300 + i, first_name: `Hook ${i}` }))
  const sent: number[] = []
  for (const user of users) sent.push(api.sendCommand(user, 'start').update_id, api.sendText(user, 'hello?').update_id)
  await waitFor(() => users.every((user) => sendsTo(user.id).length >= 2), 'two answers for every user', 60_000)
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  for (const user of users) {
    // Exactly once each, and in the chat's order: /start's welcome, then the fallback for the text.
    expect(sendsTo(user.id).map((c) => c.params['text'])).toEqual(['Welcome!', "Sorry, I didn't get that. Send /start to see the menu."])
  }
  const delivered = api.webhookDeliveries.filter((d) => d.status === 200)
  expect(new Set(delivered.map((d) => d.update_id)).size).toBe(200)
  for (const origin of origins) expect(delivered.filter((d) => d.url.startsWith(origin)).length).toBeGreaterThan(50)
  const info = (await (await fetch(`${api.apiRoot}/bot${TELEGRAM_TOKEN}/getWebhookInfo`)).json()) as { result: { url: string; pending_update_count: number } }
  expect(info.result).toMatchObject({ url: WEBHOOK_URL, pending_update_count: 0 })

  const db = new PgPoolClient(DATABASE_URL)
  pools.push(db)
  const rows = await db.query<{ handled: number; by: string | null }>(
    'SELECT count(*)::int AS handled, claimed_by AS by FROM bot_updates WHERE bot_id = $1 AND space = $2 AND handled_at IS NOT NULL GROUP BY claimed_by',
    [BOT_ID, space],
  )
  console.log(`[inbox] webhook: handled per instance ${JSON.stringify(rows.map((r) => r.handled))}`)
  expect(rows.reduce((sum, r) => sum + r.handled, 0)).toBe(200)

  // Requests Telegram would never send: refused, and nothing recorded.
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${origins[0]}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  const update = (id: number) =>
    JSON.stringify({
      update_id: id,
      message: { message_id: 1, date: 1, chat: { id: 5_399, type: 'private' }, from: { id: 5_399, is_bot: false, first_name: 'X' }, text: '/start' },
    })
  expect((await post(update(900_000_001), { 'x-telegram-bot-api-secret-token': `${secret}x` })).status).toBe(401)
  expect((await post(update(900_000_002), {})).status).toBe(401)
  expect((await post('{"update_id": 900000003, ', { 'x-telegram-bot-api-secret-token': secret })).status).toBe(400)
  const huge = JSON.stringify({ update_id: 900_000_004, message: { text: 'x'.repeat(1024 * 1024) } })
  expect((await post(huge, { 'x-telegram-bot-api-secret-token': secret })).status).toBe(413)
  const [stray] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bot_updates WHERE bot_id = $1 AND space = $2 AND update_id >= 900000000', [BOT_ID, space])
  expect(stray.n).toBe(0)
  expect(sent.length).toBe(200)
}, 120_000)

it('webhook mode: SIGKILL one of two instances while 60 updates are in flight; the other takes over its deliveries and, once the lease ran out, its claims: everyone is answered', async () => {
  api = new FakeBotApi({ token: TELEGRAM_TOKEN, webhookRetryBaseMs: 100 })
  await api.start()
  const space = uniqueSpace()
  const env = { BOT_SPACE: space, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_URL: WEBHOOK_URL, BOT_CLAIM_LEASE_SECONDS: '2' }
  const a = await startInstance({ ...env, INSTANCE_ID: 'lease-a' })
  const b = await startInstance({ ...env, INSTANCE_ID: 'lease-b' })
  const originA = `http://127.0.0.1:${a.port}`
  api.routeWebhookTo([originA, `http://127.0.0.1:${b.port}`])
  const users = Array.from({ length: 60 }, (_, i) => ({ id: 5_500 + i, first_name: `Lease ${i}` }))
  const since = api.mark()
  for (const user of users) api.sendCommand(user, 'start')
  // Kill one instance as soon as the first answers go out: it holds claims it never completes.
  await api.waitForCall((call) => call.method === 'sendMessage', { since, timeoutMs: 15_000 })
  a.child.kill('SIGKILL')
  await a.exited
  await waitFor(() => users.every((user) => sendsTo(user.id).length > 0), 'every user to be answered', 30_000).catch(() => {})
  const unanswered = users.filter((user) => sendsTo(user.id).length === 0).length
  const duplicated = users.filter((user) => sendsTo(user.id).length > 1).length
  const retried = api.webhookDeliveries.filter((d) => d.status !== 200).length
  console.log(`[inbox] webhook SIGKILL: ${60 - unanswered}/60 answered, ${duplicated} duplicate(s), ${retried} failed deliveries retried`)
  expect(unanswered, `${unanswered} of 60 users never answered`).toBe(0)
  const db = new PgPoolClient(DATABASE_URL)
  pools.push(db)
  // A user can be answered by the killed instance just before it died, with its claim still open: the other
  // instance completes that claim only once the 2 s lease has run out, so wait for it rather than assume it.
  const unhandled = async (): Promise<number> =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bot_updates WHERE bot_id = $1 AND space = $2 AND handled_at IS NULL', [BOT_ID, space]))[0].n
  await waitFor(async () => (await unhandled()) === 0, 'every recorded update to be handled once the lease ran out', 20_000).catch(() => {})
  expect(await unhandled()).toBe(0)
  // Updates the killed instance recorded (answered 200, so claimed by it) and the other one handled: taken over after the lease.
  const recordedByA = api.webhookDeliveries.filter((d) => d.status === 200 && d.url.startsWith(originA)).map((d) => d.update_id)
  const [takenOver] = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM bot_updates WHERE bot_id = $1 AND space = $2 AND update_id = ANY($3::bigint[]) AND claimed_by LIKE 'lease-b/%'",
    [BOT_ID, space, recordedByA],
  )
  console.log(`[inbox] webhook SIGKILL: ${recordedByA.length} recorded by the killed instance, ${takenOver.n} of them handled by the other after the lease`)
  expect(takenOver.n).toBeGreaterThan(0)
}, 90_000)

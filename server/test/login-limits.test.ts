import { afterAll, describe, expect, it } from 'vitest'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { startServer, uniqueSpace } from '@botsync/testkit/server'
import { SHARED_REDIS_URL, uniquePrefix } from './redis-helpers.ts'

// Every request here comes from 127.0.0.1, so each case runs on servers of
// its own: the per-address count of one case must not leak into another.

interface Attempt {
  status: number
  retryAfter: string | null
  body: { error?: string; retryAfter?: number; message?: string }
}

async function attempt(server: BotsyncServer, email: string, password: string): Promise<Attempt> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() }
}

async function statuses(server: BotsyncServer, email: string, password: string, count: number): Promise<number[]> {
  const result: number[] = []
  for (let i = 0; i < count; i += 1) result.push((await attempt(server, email, password)).status)
  return result
}

async function account(server: BotsyncServer): Promise<string> {
  const email = `limits-${uniqueSpace()}@test.local`
  await server.users.create({ email, password: 'right password' })
  return email
}

const servers: BotsyncServer[] = []
async function server(env: Record<string, string>): Promise<BotsyncServer> {
  const started = await startServer(env)
  servers.push(started)
  return started
}
afterAll(() => Promise.all(servers.map((s) => s.stop())))

// No slow-down before the lockout in these cases (LOGIN_SLOWDOWN_AFTER above the lockout count).
const LOCKOUT = { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_SLOWDOWN_AFTER: '100', LOGIN_LOCKOUT_SECONDS: '600' }

describe('login limits', () => {
  it('locks an account after consecutive failures, even for the right password, with Retry-After', async () => {
    const s = await server(LOCKOUT)
    const email = await account(s)
    expect(await statuses(s, email, 'wrong', 3)).toEqual([401, 401, 401])
    const locked = await attempt(s, email, 'right password')
    expect(locked.status).toBe(429)
    expect(locked.body).toMatchObject({ error: 'too-many-attempts', retryAfter: expect.any(Number) })
    expect(locked.body.retryAfter).toBeGreaterThan(590)
    expect(locked.body.retryAfter).toBeLessThanOrEqual(600)
    expect(locked.retryAfter).toBe(String(locked.body.retryAfter))
    // The email is matched as it is stored: case and spaces do not reset the count.
    expect((await attempt(s, `  ${email.toUpperCase()} `, 'right password')).status).toBe(429)
    // Other accounts from the same address are not affected.
    expect((await attempt(s, await account(s), 'right password')).status).toBe(200)
  })

  it('answers an unknown email exactly like a known one', async () => {
    const s = await server(LOCKOUT)
    const known = await account(s)
    const unknown = `nobody-${uniqueSpace()}@test.local`
    expect(await statuses(s, known, 'wrong', 4)).toEqual(await statuses(s, unknown, 'wrong', 4))
    expect(await statuses(s, unknown, 'wrong', 1)).toEqual([429])
  })

  it('resets the account count on success', async () => {
    const s = await server(LOCKOUT)
    const email = await account(s)
    expect(await statuses(s, email, 'wrong', 2)).toEqual([401, 401])
    expect((await attempt(s, email, 'right password')).status).toBe(200)
    expect(await statuses(s, email, 'wrong', 3)).toEqual([401, 401, 401])
    expect((await attempt(s, email, 'right password')).status).toBe(429)
  })

  it('slows an account down with growing pauses before the lockout', async () => {
    const s = await server({ LOGIN_SLOWDOWN_AFTER: '2', LOGIN_MAX_FAILURES_PER_ACCOUNT: '10' })
    const email = await account(s)
    expect(await statuses(s, email, 'wrong', 2)).toEqual([401, 401])
    // 2nd failure: wait 1 s …
    const first = await attempt(s, email, 'right password')
    expect(first).toMatchObject({ status: 429, retryAfter: '1' })
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect((await attempt(s, email, 'wrong')).status).toBe(401)
    // … 3rd: 2 s.
    expect(await attempt(s, email, 'wrong')).toMatchObject({ status: 429, retryAfter: '2' })
  })

  it('limits failures per address across accounts', async () => {
    const s = await server({ LOGIN_MAX_FAILURES_PER_IP: '4', LOGIN_IP_WINDOW_SECONDS: '600' })
    for (let i = 0; i < 4; i += 1) expect((await attempt(s, `spray-${i}-${uniqueSpace()}@test.local`, 'guess')).status).toBe(401)
    const refused = await attempt(s, await account(s), 'right password')
    expect(refused.status).toBe(429)
    expect(refused.body.retryAfter).toBeGreaterThan(590)
  })

  it('shares the counts between instances through Redis', async () => {
    const env = { ...LOCKOUT, REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: uniquePrefix() }
    const [a, b] = [await server(env), await server(env)]
    const email = await account(a)
    expect(await statuses(a, email, 'wrong', 2)).toEqual([401, 401])
    expect(await statuses(b, email, 'wrong', 1)).toEqual([401])
    expect((await attempt(a, email, 'right password')).status).toBe(429)
    expect((await attempt(b, email, 'right password')).status).toBe(429)
  })

  it('keeps limiting in memory while Redis is unreachable', async () => {
    // Nothing listens on port 1: every Redis call fails, the insurance limiter counts.
    const s = await server({ ...LOCKOUT, REDIS_URL: 'redis://127.0.0.1:1', REDIS_PREFIX: uniquePrefix() })
    const email = await account(s)
    expect(await statuses(s, email, 'wrong', 3)).toEqual([401, 401, 401])
    expect((await attempt(s, email, 'right password')).status).toBe(429)
    // … and does not lock anyone else out.
    expect((await attempt(s, await account(s), 'right password')).status).toBe(200)
  })
})

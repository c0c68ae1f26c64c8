import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { addMember, connect, JWT_SECRET, loginSession, refreshSession, startServer, synced, uniqueSpace, waitFor, wsUrlOf, type TestSession } from '@botsync/testkit/server'

const PASSWORD = 'correct horse'
const TTL_SECONDS = 7200

/** A new user, an editor of a space of their own. */
async function newUser(server: BotsyncServer): Promise<{ id: string; email: string; space: string }> {
  const email = `session-${randomUUID()}@test.local`
  const created = await server.users.create({ email, password: PASSWORD })
  const space = uniqueSpace()
  await addMember(server, space, created.id, 'editor')
  return { id: created.id, email, space }
}

/** The attributes of a Set-Cookie header, lower-cased names (`secure`, `httponly` → true). */
function attributes(setCookie: string): Record<string, string | true> {
  const [, ...parts] = setCookie.split(';')
  return Object.fromEntries(
    parts.map((part) => {
      const [name, ...value] = part.trim().split('=')
      return [name.toLowerCase(), value.length ? value.join('=') : true]
    }),
  )
}

async function post(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; setCookie: string | null; body: any }> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers })
  const text = await response.text()
  return { status: response.status, setCookie: response.headers.get('set-cookie'), body: text ? JSON.parse(text) : null }
}

describe('sessions: the refresh cookie', () => {
  let server: BotsyncServer
  let proxied: BotsyncServer
  let base: string

  beforeAll(async () => {
    // One after the other: on an empty database each would create the first owner.
    server = await startServer({ REFRESH_TTL_SECONDS: String(TTL_SECONDS) })
    proxied = await startServer({ TRUST_PROXY: 'loopback' })
    base = `http://127.0.0.1:${server.port}`
  })
  afterAll(() => Promise.all([server?.stop(), proxied?.stop()]))

  const login = async (target = server, headers: Record<string, string> = {}): Promise<TestSession & { userId: string }> => {
    const user = await newUser(target)
    return { ...(await loginSession(`http://127.0.0.1:${target.port}`, user.email, PASSWORD, headers)), userId: user.id }
  }

  it('is HttpOnly, SameSite=Strict, for /api only, as long-lived as REFRESH_TTL_SECONDS, and not Secure over plain http', async () => {
    const session = await login()
    expect(session.cookie).toMatch(/^botsync_refresh=[A-Za-z0-9_-]{43}$/)
    expect(attributes(session.setCookie)).toEqual({ path: '/api', 'max-age': String(TTL_SECONDS), httponly: true, samesite: 'Strict' })
    // Only its sha256 is stored.
    const [row] = await server.db.query<{ token_hash: Buffer }>('SELECT token_hash FROM sessions WHERE user_id = $1', [session.userId])
    expect(Buffer.from(row.token_hash).toString('base64url')).not.toBe(session.cookie.split('=')[1])
    const rotated = await refreshSession(base, session.cookie)
    expect(rotated.status).toBe(200)
    expect(attributes(rotated.setCookie!)).toEqual({ path: '/api', 'max-age': String(TTL_SECONDS), httponly: true, samesite: 'Strict' })
  })

  it('is Secure behind a trusted proxy that says https, and only then', async () => {
    const behindTls = await login(proxied, { 'x-forwarded-proto': 'https' })
    expect(attributes(behindTls.setCookie)).toMatchObject({ secure: true, httponly: true, samesite: 'Strict' })
    expect(attributes((await refreshSession(`http://127.0.0.1:${proxied.port}`, behindTls.cookie, { 'x-botsync': '1', 'x-forwarded-proto': 'https' })).setCookie!)).toMatchObject({
      secure: true,
    })
    expect(attributes((await login(proxied, { 'x-forwarded-proto': 'http' })).setCookie).secure).toBeUndefined()
    // Without TRUST_PROXY anyone could send the header: it is ignored.
    expect(attributes((await login(server, { 'x-forwarded-proto': 'https' })).setCookie).secure).toBeUndefined()
  })

  it('renews the access token from the cookie alone and rotates the cookie on each use', async () => {
    const session = await login()
    const first = await refreshSession(base, session.cookie)
    expect(first).toMatchObject({ status: 200, body: { token: expect.any(String), expiresAt: expect.any(Number), user: { id: session.userId } } })
    expect(first.cookie).not.toBe(session.cookie)
    const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${first.body.token}` } })
    expect(((await me.json()) as any).principal).toMatchObject({ kind: 'admin', userId: session.userId })
    const second = await refreshSession(base, first.cookie!)
    expect(second.status).toBe(200)
    expect(second.cookie).not.toBe(first.cookie)
    // One login, one family: every rotation stays in it.
    const families = await server.db.query<{ family: string }>('SELECT DISTINCT family FROM sessions WHERE user_id = $1', [session.userId])
    expect(families).toHaveLength(1)
    // Rows of the family past their expiry go at the next rotation.
    await server.db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND rotated_at IS NOT NULL`, [session.userId])
    expect((await refreshSession(base, second.cookie!)).status).toBe(200)
    const rows = await server.db.query<{ rotated: boolean }>('SELECT rotated_at IS NOT NULL AS rotated FROM sessions WHERE user_id = $1 ORDER BY id', [session.userId])
    expect(rows).toEqual([{ rotated: true }, { rotated: false }])
  })

  it('treats an old cookie presented again as stolen: the whole session ends, the newest cookie included', async () => {
    const session = await login()
    const rotated = await refreshSession(base, session.cookie)
    expect(rotated.status).toBe(200)
    // Past the race grace (see the next test): the old token is a copy.
    await server.db.query(`UPDATE sessions SET rotated_at = now() - interval '1 minute' WHERE user_id = $1 AND rotated_at IS NOT NULL`, [session.userId])

    const replayed = await refreshSession(base, session.cookie)
    expect(replayed).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
    expect(attributes(replayed.setCookie!)['max-age']).toBe('0')
    // The rightful (or the thief's) newest cookie is dead too.
    expect(await refreshSession(base, rotated.cookie!)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
  })

  it('lets two tabs refresh with the same cookie at once: one rotates, the other is told to retry, and nobody is logged out', async () => {
    for (let round = 0; round < 5; round += 1) {
      const session = await login()
      const answers = await Promise.all([refreshSession(base, session.cookie), refreshSession(base, session.cookie)])
      const statuses = answers.map((answer) => answer.status).sort()
      expect(statuses).toEqual([200, 409])
      const loser = answers.find((answer) => answer.status === 409)!
      expect(loser.body.error).toBe('refresh-raced')
      // The loser's answer leaves the cookie alone (the winner's Set-Cookie is the one the jar keeps).
      expect(loser.setCookie).toBeNull()
      // Its retry, with the cookie the browser holds now, goes through.
      const winner = answers.find((answer) => answer.status === 200)!
      expect((await refreshSession(base, winner.cookie!)).status).toBe(200)
    }
  })

  it('answers a missing, unknown or expired cookie with 401 and clears it', async () => {
    expect(await post(base, '/api/refresh', { 'x-botsync': '1' })).toMatchObject({ status: 401, body: { error: 'session-expired' } })
    expect(await refreshSession(base, `botsync_refresh=${'A'.repeat(43)}`)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
    const session = await login()
    await server.db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [session.userId])
    const expired = await refreshSession(base, session.cookie)
    expect(expired).toMatchObject({ status: 401, body: { error: 'session-expired' } })
    expect(attributes(expired.setCookie!)).toMatchObject({ 'max-age': '0', path: '/api' })
  })

  it('refuses cookie-only requests without the x-botsync header (CSRF)', async () => {
    const session = await login()
    const refresh = await refreshSession(base, session.cookie, {})
    expect(refresh).toMatchObject({ status: 403, body: { error: 'csrf-header-missing' } })
    expect(await post(base, '/api/logout', { cookie: session.cookie })).toMatchObject({ status: 403, body: { error: 'csrf-header-missing' } })
    // Neither did anything: the cookie still works.
    expect((await refreshSession(base, session.cookie)).status).toBe(200)
    // And another origin's page cannot add the header: the browser's preflight is never granted.
    const preflight = await fetch(`${base}/api/refresh`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-botsync' },
    })
    expect(preflight.ok).toBe(false)
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull()
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull()
  })

  it('logs out: the session is revoked and the cookie cleared', async () => {
    const session = await login()
    const other = await loginSession(base, (await server.users.findById(session.userId))!.email, PASSWORD)
    const out = await post(base, '/api/logout', { cookie: session.cookie, 'x-botsync': '1' })
    expect(out.status).toBe(204)
    expect(attributes(out.setCookie!)).toMatchObject({ 'max-age': '0', path: '/api', httponly: true })
    expect(await refreshSession(base, session.cookie)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
    // Another login of the same user (another browser) is another session.
    expect((await refreshSession(base, other.cookie)).status).toBe(200)
    // Without a cookie it is still a logout.
    expect((await post(base, '/api/logout', { 'x-botsync': '1' })).status).toBe(204)
  })

  it("logs out everywhere: every session of that user ends, another user's do not, and the user's sockets are closed", async () => {
    const ana = await login()
    const anaEmail = (await server.users.findById(ana.userId))!.email
    const anaElsewhere = await loginSession(base, anaEmail, PASSWORD)
    const ben = await login()
    const [{ id: anaSpace }] = await server.members.spacesOf(ana.userId)
    const client = connect(wsUrlOf(server), `${anaSpace}/settings`, ana.token)
    const closes: Array<{ code: number; reason: string }> = []
    client.socket.on('close', ({ event }: { event: { code: number; reason: string } }) => closes.push({ code: event.code, reason: event.reason }))
    try {
      await synced(client)
      expect(await post(base, '/api/logout-all', {})).toMatchObject({ status: 401 })
      const out = await post(base, '/api/logout-all', { authorization: `Bearer ${anaElsewhere.token}` })
      expect(out.status).toBe(204)
      expect(await refreshSession(base, ana.cookie)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
      expect(await refreshSession(base, anaElsewhere.cookie)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
      expect((await refreshSession(base, ben.cookie)).status).toBe(200)
      await waitFor(() => closes.length > 0, 'the socket to be closed')
      expect(closes[0]).toEqual({ code: 4403, reason: 'session-revoked' })
      // A new login is a new session.
      expect((await refreshSession(base, (await loginSession(base, anaEmail, PASSWORD)).cookie)).status).toBe(200)
    } finally {
      client.destroy()
    }
  })

  it("logs out everywhere: the access tokens already issued are refused at once, over HTTP and on /collab; a login right after and another user's tokens work", async () => {
    const ana = await login()
    const anaEmail = (await server.users.findById(ana.userId))!.email
    const ben = await login()
    const [{ id: anaSpace }] = await server.members.spacesOf(ana.userId)
    const [{ id: benSpace }] = await server.members.spacesOf(ben.userId)
    const me = async (token: string) => {
      const response = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })
      return { status: response.status, body: (await response.json()) as any }
    }
    expect((await me(ana.token)).status).toBe(200)
    expect((await post(base, '/api/logout-all', { authorization: `Bearer ${ana.token}` })).status).toBe(204)
    // The same login's token, issued a moment ago (most likely in this same second): refused.
    expect(await me(ana.token)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
    expect(await post(base, '/api/logout-all', { authorization: `Bearer ${ana.token}` })).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
    const stolen = connect(wsUrlOf(server), `${anaSpace}/settings`, ana.token)
    try {
      expect(await stolen.authFailure).toBe('session-revoked')
    } finally {
      stolen.destroy()
    }
    // A login right after, in the same second as the revocation: works, over HTTP and on /collab.
    const again = await loginSession(base, anaEmail, PASSWORD)
    expect(await me(again.token)).toMatchObject({ status: 200, body: { principal: { userId: ana.userId } } })
    const fresh = connect(wsUrlOf(server), `${anaSpace}/settings`, again.token)
    const benClient = connect(wsUrlOf(server), `${benSpace}/settings`, ben.token)
    try {
      await synced(fresh)
      // Another user's token is untouched.
      await synced(benClient)
      expect((await me(ben.token)).status).toBe(200)
    } finally {
      fresh.destroy()
      benClient.destroy()
    }
  })

  it('tells a token issued in the same second as the revocation apart by its milliseconds (iat_ms), and counts one without iat_ms from the start of its second', async () => {
    const ana = await login()
    const second = Math.floor(Date.now() / 1000)
    const signed = (claims: Record<string, unknown>) =>
      new SignJWT({ email: 'x@test.local', ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(ana.userId)
        .setIssuedAt(second)
        .setExpirationTime(second + 600)
        .setIssuer('botsync')
        .sign(new TextEncoder().encode(JWT_SECRET))
    const status = async (token: string) => (await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status
    // Revoked at .500 of that second.
    await server.db.query(`UPDATE users SET tokens_valid_after = to_timestamp($2::double precision / 1000) WHERE id = $1`, [ana.userId, second * 1000 + 500])
    expect(await status(await signed({ iat_ms: second * 1000 + 499 }))).toBe(401)
    expect(await status(await signed({ iat_ms: second * 1000 + 500 }))).toBe(200)
    expect(await status(await signed({ iat_ms: second * 1000 + 501 }))).toBe(200)
    // Without iat_ms the token may be from before .500: refused.
    expect(await status(await signed({}))).toBe(401)
  })

  it("ends a removed user's sessions with the users row", async () => {
    const session = await login()
    await server.db.query('DELETE FROM users WHERE id = $1', [session.userId])
    expect(await server.db.query('SELECT 1 FROM sessions WHERE user_id = $1', [session.userId])).toEqual([])
    expect(await refreshSession(base, session.cookie)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
  })

  it('revokeAll (what a password change calls) ends every session of the user', async () => {
    const session = await login()
    expect(await server.sessions.revokeAll(session.userId)).toBe(1)
    expect(await refreshSession(base, session.cookie)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
  })
})

import { createServer, type AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { apiRequest as api, connect, login, memberOf, startServer, synced, uniqueSpace, waitFor, wsUrlOf, type TestClient } from '@botsync/testkit/server'

function refusal(client: TestClient, reason: string): boolean {
  return client.stateless.some((payload) => JSON.parse(payload).reason === reason)
}

async function stored(server: BotsyncServer, name: string): Promise<Record<string, unknown>> {
  const doc = new Y.Doc()
  const { state } = await server.store.load(name)
  if (state) Y.applyUpdate(doc, state)
  return doc.getMap('settings').toJSON()
}

const tokenOf = (url: string) => url.split('/#/invite/')[1]

describe('spaces and members', () => {
  let server: BotsyncServer
  const clients: TestClient[] = []
  const open = (name: string, token: string) => {
    const client = connect(wsUrlOf(server), name, token)
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    server = await startServer({ SPACE_DELETE_GRACE_SECONDS: '1', PUBLIC_URL: 'https://botsync.example.com' })
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
  })

  it('a member of space A cannot open any document of space B (forbidden-space); a missing space is unknown-space', async () => {
    const [a, b] = [uniqueSpace(), uniqueSpace()]
    const member = await memberOf(server, a, 'owner')
    await server.spaces.ensure(b)
    const mine = open(`${a}/settings`, member.token)
    await synced(mine)
    for (const name of [`${b}/settings`, `${b}/buttons`, `${b}/scenarios`, `${b}/scenario/x`, `${b}/activity`, `${b}/public`]) {
      expect(await open(name, member.token).authFailure, name).toBe('forbidden-space')
    }
    expect(await open(`${uniqueSpace()}/settings`, member.token).authFailure).toBe('unknown-space')
  })

  it('holds roles per space: owner in A, viewer in B', async () => {
    const [a, b] = [uniqueSpace(), uniqueSpace()]
    const user = await memberOf(server, a, 'owner')
    await server.spaces.ensure(b)
    await server.members.add(b, user.userId, 'viewer')
    expect(await api(server, 'GET', '/api/spaces', user.token)).toMatchObject({
      status: 200,
      body: {
        spaces: expect.arrayContaining([
          { id: a, name: a, role: 'owner', deletingAt: null },
          { id: b, name: b, role: 'viewer', deletingAt: null },
        ]),
      },
    })
    const inA = open(`${a}/settings`, user.token)
    const inB = open(`${b}/settings`, user.token)
    await Promise.all([synced(inA), synced(inB)])
    expect([inA.provider.authorizedScope, inB.provider.authorizedScope]).toEqual(['read-write', 'readonly'])
    inA.doc.getMap('settings').set('owner', 'here')
    inB.doc.getMap('settings').set('viewer', 'there')
    await synced(inA)
    await waitFor(() => refusal(inB, 'read-only'), 'the read-only refusal in B')
    expect(await stored(server, `${a}/settings`)).toEqual({ owner: 'here' })
    expect(await stored(server, `${b}/settings`)).toEqual({})
    // An owner of A is not an owner of B.
    expect(await api(server, 'POST', `/api/spaces/${b}/invites`, user.token, { email: 'x@example.com', role: 'editor' })).toMatchObject({
      status: 403,
      body: { error: 'not-an-owner' },
    })
  })

  it('invites a new user (name + password), once; an existing user just joins', async () => {
    const space = uniqueSpace()
    const owner = await memberOf(server, space, 'owner')
    const email = `ben-${uniqueSpace()}@example.com`
    const invite = await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email, role: 'editor' })
    expect(invite).toMatchObject({ status: 201, body: { emailed: false } })
    expect(invite.body.url).toMatch(/^https:\/\/botsync\.example\.com\/#\/invite\/[A-Za-z0-9_-]{43}$/)
    expect(invite.body.expiresAt - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000)
    const token = tokenOf(invite.body.url)
    // Only the hash is stored.
    const rows = await server.db.query<{ token_hash: Buffer }>('SELECT token_hash FROM invites WHERE id = $1', [invite.body.id])
    expect(rows[0].token_hash.toString('utf8')).not.toContain(token)

    expect(await api(server, 'GET', `/api/invites/${token}`)).toMatchObject({
      status: 200,
      body: { space, spaceName: space, email, role: 'editor', kind: 'invite', existingUser: false },
    })
    const listed = await api(server, 'GET', `/api/spaces/${space}/members`, owner.token)
    expect(listed.body.invites).toMatchObject([{ id: invite.body.id, email, role: 'editor', kind: 'invite' }])

    expect(await api(server, 'POST', `/api/invites/${token}/accept`, null, { name: 'Ben' })).toMatchObject({ status: 400, body: { error: 'invalid-request' } })
    const accepted = await api(server, 'POST', `/api/invites/${token}/accept`, null, { name: 'Ben', password: 'bens password' })
    expect(accepted).toMatchObject({ status: 200, body: { user: { email, name: 'Ben' } } })
    expect(accepted.body.user.role).toBeUndefined()
    const ben = open(`${space}/settings`, accepted.body.token)
    await synced(ben)
    expect(ben.provider.authorizedScope).toBe('read-write')
    expect(await login(`http://127.0.0.1:${server.port}`, email, 'bens password')).toBeTruthy()
    // One-time.
    expect(await api(server, 'POST', `/api/invites/${token}/accept`, null, { name: 'Eve', password: 'eves password' })).toMatchObject({
      status: 410,
      body: { error: 'invite-used' },
    })
    expect(await api(server, 'GET', `/api/invites/${token}`)).toMatchObject({ status: 410, body: { error: 'invite-used' } })
    expect(await api(server, 'GET', `/api/invites/${'x'.repeat(43)}`)).toMatchObject({ status: 404, body: { error: 'invite-not-found' } })

    // An existing user (a member elsewhere) joins without a password.
    const other = uniqueSpace()
    const existing = await memberOf(server, other, 'owner')
    const second = await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email: existing.email, role: 'viewer' })
    const secondToken = tokenOf(second.body.url)
    expect((await api(server, 'GET', `/api/invites/${secondToken}`)).body.existingUser).toBe(true)
    expect(await api(server, 'POST', `/api/invites/${secondToken}/accept`, null, {})).toMatchObject({ status: 200, body: { joined: space } })
    expect((await api(server, 'GET', '/api/spaces', existing.token)).body.spaces.map((s: { id: string; role: string }) => [s.id, s.role]).sort()).toEqual(
      [
        [other, 'owner'],
        [space, 'viewer'],
      ].sort(),
    )
    // Inviting a member again is a conflict.
    expect(await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email: existing.email, role: 'editor' })).toMatchObject({
      status: 409,
      body: { error: 'already-member' },
    })
  })

  it('refuses an expired link (410) and a revoked one (404)', async () => {
    const space = uniqueSpace()
    const owner = await memberOf(server, space, 'owner')
    const invite = await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email: `late-${space}@example.com`, role: 'editor' })
    await server.db.query(`UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = $1`, [invite.body.id])
    const token = tokenOf(invite.body.url)
    expect(await api(server, 'GET', `/api/invites/${token}`)).toMatchObject({ status: 410, body: { error: 'invite-expired' } })
    expect(await api(server, 'POST', `/api/invites/${token}/accept`, null, { name: 'Late', password: 'late password' })).toMatchObject({
      status: 410,
      body: { error: 'invite-expired' },
    })

    const revoked = await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email: `gone-${space}@example.com`, role: 'editor' })
    expect((await api(server, 'DELETE', `/api/spaces/${space}/invites/${revoked.body.id}`, owner.token)).status).toBe(204)
    expect(await api(server, 'GET', `/api/invites/${tokenOf(revoked.body.url)}`)).toMatchObject({ status: 404, body: { error: 'invite-not-found' } })
  })

  it("an owner's reset link sets the member's password", async () => {
    const space = uniqueSpace()
    const owner = await memberOf(server, space, 'owner')
    const member = await memberOf(server, space, 'editor')
    const reset = await api(server, 'POST', `/api/spaces/${space}/members/${member.userId}/reset`, owner.token)
    expect(reset).toMatchObject({ status: 201, body: { emailed: false } })
    const token = tokenOf(reset.body.url)
    expect(await api(server, 'GET', `/api/invites/${token}`)).toMatchObject({ status: 200, body: { kind: 'reset', email: member.email, existingUser: true } })
    expect(await api(server, 'POST', `/api/invites/${token}/accept`, null, { password: 'short' })).toMatchObject({ status: 400 })
    const accepted = await api(server, 'POST', `/api/invites/${token}/accept`, null, { password: 'a new password' })
    expect(accepted).toMatchObject({ status: 200, body: { user: { id: member.userId } } })
    // Whoever held the old password may hold its access token: refused at once, not at its expiry.
    expect(await api(server, 'GET', '/api/me', member.token)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
    // The reset page's own session, issued right after (the same second), works.
    expect(await api(server, 'GET', '/api/me', accepted.body.token)).toMatchObject({ status: 200, body: { principal: { userId: member.userId } } })
    // The owner's token is another user's: untouched.
    expect((await api(server, 'GET', '/api/me', owner.token)).status).toBe(200)
    expect(await login(`http://127.0.0.1:${server.port}`, member.email, 'a new password')).toBeTruthy()
    await expect(login(`http://127.0.0.1:${server.port}`, member.email, member.password)).rejects.toThrow(/401/)
    expect((await api(server, 'POST', `/api/invites/${token}/accept`, null, { password: 'another password' })).status).toBe(410)
    // Not for a member who is also in a space the owner does not own: the link would open that space too.
    const elsewhere = uniqueSpace()
    await server.spaces.ensure(elsewhere)
    await server.members.add(elsewhere, member.userId, 'owner')
    expect(await api(server, 'POST', `/api/spaces/${space}/members/${member.userId}/reset`, owner.token)).toMatchObject({ status: 403, body: { error: 'forbidden-space' } })
  })

  it('keeps at least one owner (409 last-owner), also under two concurrent demotions', async () => {
    const space = uniqueSpace()
    const owner = await memberOf(server, space, 'owner')
    expect(await api(server, 'PATCH', `/api/spaces/${space}/members/${owner.userId}`, owner.token, { role: 'editor' })).toMatchObject({
      status: 409,
      body: { error: 'last-owner' },
    })
    expect(await api(server, 'DELETE', `/api/spaces/${space}/members/${owner.userId}`, owner.token)).toMatchObject({ status: 409, body: { error: 'last-owner' } })

    for (let round = 0; round < 3; round += 1) {
      const s = uniqueSpace()
      const first = await memberOf(server, s, 'owner')
      const second = await memberOf(server, s, 'owner')
      // Each demotes the other at the same moment: one wins, one gets 409.
      const answers = await Promise.all([
        api(server, 'PATCH', `/api/spaces/${s}/members/${second.userId}`, first.token, { role: 'viewer' }),
        api(server, 'PATCH', `/api/spaces/${s}/members/${first.userId}`, second.token, { role: 'viewer' }),
      ])
      const statuses = answers.map((answer) => answer.status).sort()
      // 200 + 409, or 200 + 403 when the loser was already demoted by the time its request was checked.
      expect(statuses[0]).toBe(200)
      expect([403, 409]).toContain(statuses[1])
      const owners = (await server.members.list(s)).filter((member) => member.role === 'owner')
      expect(owners).toHaveLength(1)
      // And straight against the repository, without the HTTP role check in between: two demotions of the two owners.
      const t = uniqueSpace()
      const x = await memberOf(server, t, 'owner')
      const y = await memberOf(server, t, 'owner')
      const results = await Promise.allSettled([server.members.setRole(t, x.userId, 'editor'), server.members.setRole(t, y.userId, 'editor')])
      expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected'])
      expect(String((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/at least one owner/)
      expect((await server.members.list(t)).filter((member) => member.role === 'owner')).toHaveLength(1)
    }
  })

  it('answers the API refusals with their codes', async () => {
    const space = uniqueSpace()
    const owner = await memberOf(server, space, 'owner')
    const editor = await memberOf(server, space, 'editor')
    const outsider = await memberOf(server, uniqueSpace(), 'owner')
    expect(await api(server, 'GET', '/api/spaces')).toMatchObject({ status: 401, body: { error: 'missing-token' } })
    expect(await api(server, 'GET', `/api/spaces/${space}/members`)).toMatchObject({ status: 401 })
    expect(await api(server, 'GET', `/api/spaces/${space}/members`, outsider.token)).toMatchObject({ status: 403, body: { error: 'forbidden-space' } })
    expect(await api(server, 'GET', `/api/spaces/${uniqueSpace()}/members`, owner.token)).toMatchObject({ status: 404, body: { error: 'unknown-space' } })
    expect(await api(server, 'PATCH', `/api/spaces/${space}/members/${owner.userId}`, editor.token, { role: 'viewer' })).toMatchObject({
      status: 403,
      body: { error: 'not-an-owner' },
    })
    expect(await api(server, 'DELETE', `/api/spaces/${space}/members/${owner.userId}`, editor.token)).toMatchObject({ status: 403, body: { error: 'not-an-owner' } })
    expect(await api(server, 'PATCH', `/api/spaces/${space}/members/${editor.userId}`, owner.token, { role: 'admin' })).toMatchObject({
      status: 400,
      body: { error: 'invalid-request' },
    })
    expect(await api(server, 'PATCH', `/api/spaces/${space}/members/${outsider.userId}`, owner.token, { role: 'viewer' })).toMatchObject({
      status: 404,
      body: { error: 'not-found' },
    })
    expect(await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email: 'not an email', role: 'editor' })).toMatchObject({ status: 400 })
    expect(await api(server, 'POST', '/api/spaces', owner.token, { id: 'Bad Id!', name: 'x' })).toMatchObject({ status: 400, body: { error: 'invalid-space' } })
    expect(await api(server, 'POST', '/api/spaces', owner.token, { id: space, name: 'again' })).toMatchObject({ status: 409, body: { error: 'space-exists' } })
    expect(await api(server, 'PUT', `/api/spaces/${space}/members/${editor.userId}`, owner.token, {})).toMatchObject({ status: 405 })
    // Members see members but not pending invites; a member may leave.
    await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email: `p-${space}@example.com`, role: 'viewer' })
    const seen = await api(server, 'GET', `/api/spaces/${space}/members`, editor.token)
    expect(seen).toMatchObject({ status: 200, body: { invites: [] } })
    expect(seen.body.members.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      [owner.userId, 'owner'],
      [editor.userId, 'editor'],
    ])
    expect(seen.body.members[0].lastSeenAt).toBeGreaterThan(Date.now() - 60_000)
    expect((await api(server, 'DELETE', `/api/spaces/${space}/members/${editor.userId}`, editor.token)).status).toBe(204)
  })

  it('creates a space; deleting needs confirmation, opens read-only during the grace, can be restored, then is purged', async () => {
    const creator = await memberOf(server, uniqueSpace(), 'viewer')
    const space = uniqueSpace()
    expect(await api(server, 'POST', '/api/spaces', creator.token, { id: space, name: 'My shop' })).toMatchObject({
      status: 201,
      body: { space: { id: space, name: 'My shop', role: 'owner', deletingAt: null } },
    })
    const editor = await memberOf(server, space, 'editor')
    const client = open(`${space}/settings`, editor.token)
    await synced(client)
    client.doc.getMap('settings').set('kept', 'yes')
    await synced(client)

    expect(await api(server, 'DELETE', `/api/spaces/${space}`, creator.token, { confirm: 'wrong' })).toMatchObject({ status: 400, body: { error: 'confirm-required' } })
    expect(await api(server, 'DELETE', `/api/spaces/${space}`, editor.token, { confirm: space })).toMatchObject({ status: 403, body: { error: 'not-an-owner' } })
    // SPACE_DELETE_GRACE_SECONDS is 1 here; only sweepSpaces() (or the minute's sweeper) purges, so there is time to look and restore.
    const deleting = await api(server, 'DELETE', `/api/spaces/${space}`, creator.token, { confirm: space })
    expect(deleting.status).toBe(200)
    expect(deleting.body.deletingAt).toBeGreaterThan(Date.now() - 1000)
    await waitFor(() => refusal(client, 'space-deleting'), 'the open connection to turn read-only (space-deleting)', 2_000)
    expect(client.provider.authorizedScope).toBe('readonly')
    const late = open(`${space}/buttons`, editor.token)
    await synced(late)
    expect(late.provider.authorizedScope).toBe('readonly')
    await waitFor(() => refusal(late, 'space-deleting'), 'a new connection told why')
    expect((await api(server, 'GET', '/api/spaces', creator.token)).body.spaces.find((s: { id: string }) => s.id === space).deletingAt).toBe(deleting.body.deletingAt)

    expect(await api(server, 'POST', `/api/spaces/${space}/restore`, creator.token)).toMatchObject({ status: 200, body: { deletingAt: null } })
    await waitFor(() => client.provider.authorizedScope === 'read-write', 'write access back after restore')
    // Not purged: the grace was cancelled.
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect(await server.sweepSpaces()).not.toContain(space)

    // Deleted again and left alone past the 1 s grace: purged.
    const closes: number[] = []
    client.socket.on('close', ({ event }: { event: { code: number } }) => closes.push(event.code))
    await api(server, 'DELETE', `/api/spaces/${space}`, creator.token, { confirm: space })
    expect(await server.sweepSpaces()).not.toContain(space)
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect(await server.sweepSpaces()).toContain(space)
    await waitFor(() => closes.includes(4403), 'the sockets to the purged space to close')
    expect(await server.spaces.get(space)).toBeNull()
    const left = await server.db.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM document_updates WHERE name LIKE $1) + (SELECT count(*) FROM documents WHERE name LIKE $1) + (SELECT count(*) FROM space_members WHERE space = $2) + (SELECT count(*) FROM invites WHERE space = $2) AS n`,
      [`${space}/%`, space],
    )
    expect(Number(left[0].n)).toBe(0)
    expect(await open(`${space}/settings`, editor.token).authFailure).toBe('unknown-space')
  })
})

describe('invite emails (SMTP_URL)', () => {
  const received: Array<{ to: string; body: string }> = []
  let smtp: SMTPServer
  let port: number

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, session, callback) {
        let body = ''
        stream.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address).join(','), body })
          callback()
        })
      },
    })
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve))
    port = (smtp.server.address() as AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())))

  it('emails the invite link through a real SMTP server', async () => {
    const server = await startServer({ SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: 'botsync <noreply@example.com>' })
    try {
      const space = uniqueSpace()
      const owner = await memberOf(server, space, 'owner')
      const email = `mailed-${space}@example.com`
      const invite = await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email, role: 'editor' })
      expect(invite).toMatchObject({ status: 201, body: { emailed: true } })
      await waitFor(() => received.some((mail) => mail.to === email), 'the email to arrive')
      const mail = received.find((m) => m.to === email)!
      // Quoted-printable may wrap long lines: unfold soft breaks before looking for the link.
      expect(mail.body.replace(/=\r?\n/g, '')).toContain(invite.body.url)
      expect(mail.body).toContain('noreply@example.com')
    } finally {
      await server.stop()
    }
  })

  it('keeps the invite when the email cannot be sent: the link is answered with emailed: false', async () => {
    // A port nothing listens on.
    const closed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const free = (probe.address() as AddressInfo).port
        probe.close(() => resolve(free))
      })
    })
    const server = await startServer({ SMTP_URL: `smtp://127.0.0.1:${closed}` })
    try {
      const space = uniqueSpace()
      const owner = await memberOf(server, space, 'owner')
      const invite = await api(server, 'POST', `/api/spaces/${space}/invites`, owner.token, { email: `unmailed-${space}@example.com`, role: 'viewer' })
      expect(invite).toMatchObject({ status: 201, body: { emailed: false } })
      expect(await api(server, 'GET', `/api/invites/${tokenOf(invite.body.url)}`)).toMatchObject({ status: 200, body: { role: 'viewer' } })
    } finally {
      await server.stop()
    }
  })
})

describe('start-up', () => {
  it('seeds the demo space with the first owner as its owner, and ensures BOT_SPACE', async () => {
    // A fresh embedded database: this start creates the first owner.
    const bot = uniqueSpace()
    const server = await startServer({ DATABASE_URL: '', SEED_DEMO: 'true', BOT_SPACE: bot })
    try {
      const [owner] = await server.db.query<{ email: string }>('SELECT email FROM users')
      expect(owner.email).toBe('admin@botsync.local')
      const rows = await server.db.query<{ space: string; role: string }>('SELECT space, role FROM space_members ORDER BY space')
      expect(rows).toEqual(
        [
          { space: 'demo', role: 'owner' },
          { space: bot, role: 'owner' },
        ].sort((x, y) => x.space.localeCompare(y.space)),
      )
      expect((await server.spaces.get('demo'))?.name).toBe('Demo')
    } finally {
      await server.stop()
    }
  })
})

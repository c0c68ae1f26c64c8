import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { TokenIssuer } from '../src/auth/token-issuer.ts'
import {
  apiRequest as api,
  connect,
  JWT_SECRET,
  loginSession,
  memberOf,
  refreshSession,
  startServer,
  synced,
  uniqueSpace,
  waitFor,
  wsUrlOf,
  type TestClient,
} from '@botsync/testkit/server'

/** A new user who is `role` in `space` (a new space if omitted). */
async function user(
  server: BotsyncServer,
  role: 'owner' | 'editor' | 'viewer',
  space = uniqueSpace(),
): Promise<{ id: string; email: string; password: string; token: string; cookie: string; space: string }> {
  const member = await memberOf(server, space, role)
  const { cookie } = await session(server, member.email, member.password)
  return { id: member.userId, email: member.email, password: member.password, token: member.token, cookie, space }
}

/** A user's access token and refresh cookie, from a login. */
async function session(server: BotsyncServer, email: string, password: string): Promise<{ token: string; cookie: string }> {
  return loginSession(`http://127.0.0.1:${server.port}`, email, password)
}

function notices(client: TestClient): Array<{ type?: string; reason?: string }> {
  return client.stateless.map((payload) => JSON.parse(payload))
}

function hasNotice(client: TestClient, reason: string): boolean {
  return notices(client).some((notice) => notice.type === 'botsync:refused' && notice.reason === reason)
}

async function stored(server: BotsyncServer, name: string): Promise<Record<string, unknown>> {
  const doc = new Y.Doc()
  const { state } = await server.store.load(name)
  if (state) Y.applyUpdate(doc, state)
  return doc.getMap('settings').toJSON()
}

/** An edit the server refuses gets a `read-only` notice and is neither applied nor stored. */
async function expectRefusedWrite(server: BotsyncServer, client: TestClient, name: string, key: string): Promise<void> {
  const before = notices(client).filter((notice) => notice.reason === 'read-only').length
  client.doc.getMap('settings').set(key, 'should not be stored')
  await waitFor(() => notices(client).filter((notice) => notice.reason === 'read-only').length > before, 'the read-only refusal')
  expect(server.server.hocuspocus.documents.get(name)?.getMap('settings').get(key)).toBeUndefined()
  expect((await stored(server, name))[key]).toBeUndefined()
}

async function me(server: BotsyncServer, token: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/me`, { headers: { authorization: `Bearer ${token}` } })
  return { status: response.status, body: await response.json() }
}

/** POST /api/refresh with the user's refresh cookie (the session, not the access token). */
async function refresh(server: BotsyncServer, cookie: string): Promise<{ status: number; body: any }> {
  const { status, body } = await refreshSession(`http://127.0.0.1:${server.port}`, cookie)
  return { status, body }
}

describe('live access: role changes and deletions', () => {
  let a: BotsyncServer
  let b: BotsyncServer
  const clients: TestClient[] = []
  const open = (server: BotsyncServer, name: string, token: string | (() => string)) => {
    const client = connect(wsUrlOf(server), name, token)
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    // Two instances on one PostgreSQL, no Redis: NOTIFY alone reaches both.
    ;[a, b] = await Promise.all([startServer(), startServer()])
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await Promise.all([a.stop(), b.stop()])
  })

  it('makes a demoted editor read-only on every instance, from a change made in SQL', async () => {
    const editor = await user(a, 'editor')
    const name = `${editor.space}/settings`
    const onA = open(a, name, editor.token)
    const onB = open(b, name, editor.token)
    await Promise.all([synced(onA), synced(onB)])
    onA.doc.getMap('settings').set('before', 'demotion')
    await synced(onA)

    await a.db.query(`UPDATE space_members SET role = 'viewer' WHERE space = $1 AND user_id = $2`, [editor.space, editor.id])
    await waitFor(() => hasNotice(onA, 'role-changed') && hasNotice(onB, 'role-changed'), 'both connections to be told')
    expect(onA.provider.authorizedScope).toBe('readonly')
    await expectRefusedWrite(a, onA, name, 'on-a')
    await expectRefusedWrite(b, onB, name, 'on-b')
    expect(await stored(a, name)).toEqual({ before: 'demotion' })

    // /api/me says what the database says, per space.
    expect((await me(a, editor.token)).body).toMatchObject({ principal: { userId: editor.id }, spaces: [{ id: editor.space, role: 'viewer' }] })
    // A token carries no role at all.
    const refreshed = await refresh(b, editor.cookie)
    expect(refreshed).toMatchObject({ status: 200, body: { user: { id: editor.id } } })
    expect(refreshed.body.user.role).toBeUndefined()
  })

  it('gives write access back when the role is raised again', async () => {
    const viewer = await user(a, 'viewer')
    const name = `${viewer.space}/settings`
    const client = open(b, name, viewer.token)
    await synced(client)
    await expectRefusedWrite(b, client, name, 'as-viewer')
    await a.db.query(`UPDATE space_members SET role = 'editor' WHERE space = $1 AND user_id = $2`, [viewer.space, viewer.id])
    await waitFor(() => client.provider.authorizedScope === 'read-write', 'the read-write scope')
    client.doc.getMap('settings').set('as-editor', 'stored')
    await synced(client)
    expect((await stored(b, name))['as-editor']).toBe('stored')
  })

  it('an owner demoting an editor through the API: writes refused within 1 s on both instances, and promoted back', async () => {
    const owner = await user(a, 'owner')
    const editor = await memberOf(a, owner.space, 'editor')
    const name = `${owner.space}/settings`
    const onA = open(a, name, editor.token)
    const onB = open(b, name, editor.token)
    await Promise.all([synced(onA), synced(onB)])

    const started = Date.now()
    expect(await api(a, 'PATCH', `/api/spaces/${owner.space}/members/${editor.userId}`, owner.token, { role: 'viewer' })).toMatchObject({
      status: 200,
      body: { member: { userId: editor.userId, role: 'viewer' } },
    })
    await waitFor(() => hasNotice(onA, 'role-changed') && hasNotice(onB, 'role-changed'), 'both connections to turn read-only', 1_000)
    expect(Date.now() - started).toBeLessThan(1_000)
    expect([onA.provider.authorizedScope, onB.provider.authorizedScope]).toEqual(['readonly', 'readonly'])
    await expectRefusedWrite(a, onA, name, 'viewer-on-a')
    await expectRefusedWrite(b, onB, name, 'viewer-on-b')

    await api(b, 'PATCH', `/api/spaces/${owner.space}/members/${editor.userId}`, owner.token, { role: 'editor' })
    await waitFor(() => onA.provider.authorizedScope === 'read-write' && onB.provider.authorizedScope === 'read-write', 'write access back on both')
    onB.doc.getMap('settings').set('editor-again', 'stored')
    await synced(onB)
    expect((await stored(b, name))['editor-again']).toBe('stored')
  })

  it('removing a member closes their sockets to that space on both instances (4403 access-revoked), not to their other spaces', async () => {
    const owner = await user(a, 'owner')
    const member = await memberOf(a, owner.space, 'editor')
    const elsewhere = uniqueSpace()
    await a.spaces.ensure(elsewhere)
    await a.members.add(elsewhere, member.userId, 'editor')
    const onA = open(a, `${owner.space}/settings`, member.token)
    const onB = open(b, `${owner.space}/buttons`, member.token)
    const other = open(b, `${elsewhere}/settings`, member.token)
    await Promise.all([synced(onA), synced(onB), synced(other)])
    const closes: Array<{ code: number; reason: string }> = []
    for (const client of [onA, onB]) {
      client.socket.on('close', ({ event }: { event: { code: number; reason: string } }) => closes.push({ code: event.code, reason: event.reason }))
    }
    const otherSocketsBefore = other.socket.status

    expect((await api(b, 'DELETE', `/api/spaces/${owner.space}/members/${member.userId}`, owner.token)).status).toBe(204)
    await waitFor(() => closes.length >= 2, 'both sockets to be closed', 2_000)
    expect(closes.slice(0, 2)).toEqual([
      { code: 4403, reason: 'access-revoked' },
      { code: 4403, reason: 'access-revoked' },
    ])
    expect(await onA.authFailure).toBe('forbidden-space')
    expect(await onB.authFailure).toBe('forbidden-space')
    // The membership elsewhere is untouched: still connected and writable there.
    expect(otherSocketsBefore).toBe('connected')
    other.doc.getMap('settings').set('still', 'here')
    await synced(other)
    expect((await stored(b, `${elsewhere}/settings`)).still).toBe('here')
  })

  it("closes a deleted user's sockets on every instance and refuses them afterwards", async () => {
    const editor = await user(a, 'editor')
    const name = `${editor.space}/settings`
    const onA = open(a, name, editor.token)
    const onB = open(b, name, editor.token)
    await Promise.all([synced(onA), synced(onB)])
    const closes: Array<{ code: number; reason: string }> = []
    for (const client of [onA, onB]) {
      client.socket.on('close', ({ event }: { event: { code: number; reason: string } }) => closes.push({ code: event.code, reason: event.reason }))
    }

    await a.db.query('DELETE FROM users WHERE id = $1', [editor.id])
    await waitFor(() => closes.length >= 2, 'both sockets to be closed')
    expect(closes.slice(0, 2)).toEqual([
      { code: 4403, reason: 'access-revoked' },
      { code: 4403, reason: 'access-revoked' },
    ])
    // The providers reconnect with the same token and are refused.
    expect(await onA.authFailure).toBe('user-not-found')
    expect(await onB.authFailure).toBe('user-not-found')
    expect(await me(a, editor.token)).toMatchObject({ status: 401, body: { error: 'user-not-found' } })
    // The user's sessions went with the row (ON DELETE CASCADE).
    expect(await refresh(b, editor.cookie)).toMatchObject({ status: 401, body: { error: 'session-revoked' } })
  })
})

/**
 * What POST /api/refresh returns, but valid for a minute: with the 2 s
 * tokens of these tests a refresh in the same second would expire with the
 * old one (JWT `exp` has whole seconds).
 */
async function longerToken(server: BotsyncServer, userId: string): Promise<string> {
  const found = await server.users.findById(userId)
  const { token } = await new TokenIssuer(JWT_SECRET, 60).issue({ userId, email: found!.email, name: found!.name })
  return token
}

describe('live access: token expiry', () => {
  let server: BotsyncServer
  const clients: TestClient[] = []
  beforeAll(async () => {
    server = await startServer({ JWT_TTL_SECONDS: '2' })
  })
  afterAll(async () => {
    for (const client of clients) client.destroy()
    await server.stop()
  })

  it('makes a connection read-only when its token expires', async () => {
    const editor = await user(server, 'editor')
    const name = `${editor.space}/settings`
    const client = connect(wsUrlOf(server), name, editor.token)
    clients.push(client)
    await synced(client)
    client.doc.getMap('settings').set('before', 'expiry')
    await synced(client)

    await waitFor(() => hasNotice(client, 'token-expired'), 'the token-expired notice', 5_000)
    expect(client.provider.authorizedScope).toBe('readonly')
    // Asked for its token, the provider sent the same, expired one: still read-only.
    await expectRefusedWrite(server, client, name, 'after')
    expect(await me(server, editor.token)).toMatchObject({ status: 401, body: { error: 'token-expired' } })
    // The refresh cookie outlives the access token: that is what renews it.
    expect(await refresh(server, editor.cookie)).toMatchObject({ status: 200 })
  })

  it('keeps write access with a token refreshed before expiry and pushed to the open connection', async () => {
    const editor = await user(server, 'editor')
    const name = `${editor.space}/settings`
    let token = editor.token
    const client = connect(wsUrlOf(server), name, () => token)
    clients.push(client)
    await synced(client)
    const firstExpiry = (await me(server, token)).body.principal.expiresAt as number

    // What the admin does: refresh ahead of expiry, then hand the new token to its providers.
    token = await longerToken(server, editor.id)
    await client.provider.sendToken()

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstExpiry - Date.now()) + 300))
    client.doc.getMap('settings').set('after', 'first expiry')
    await synced(client)
    expect((await stored(server, name)).after).toBe('first expiry')
    expect(hasNotice(client, 'token-expired')).toBe(false)
  })

  it('restores write access when the provider answers the token request with a fresh token', async () => {
    const editor = await user(server, 'editor')
    const name = `${editor.space}/settings`
    let token = editor.token
    const client = connect(wsUrlOf(server), name, () => token)
    clients.push(client)
    await synced(client)
    // Refreshed, but not pushed: the server asks for it at expiry.
    token = await longerToken(server, editor.id)
    await waitFor(() => hasNotice(client, 'token-expired'), 'the token-expired notice', 5_000)
    await waitFor(() => client.provider.authorizedScope === 'read-write', 'write access back')
    client.doc.getMap('settings').set('after', 'token sync')
    await synced(client)
    expect((await stored(server, name)).after).toBe('token sync')
  })
})

describe('live access on the embedded database', () => {
  it("hears a role change through PGlite's in-process NOTIFY", async () => {
    const server = await startServer({ DATABASE_URL: '' })
    const editor = await user(server, 'editor')
    const name = `${editor.space}/settings`
    const client = connect(wsUrlOf(server), name, editor.token)
    try {
      await synced(client)
      await server.db.query(`UPDATE space_members SET role = 'viewer' WHERE space = $1 AND user_id = $2`, [editor.space, editor.id])
      await waitFor(() => hasNotice(client, 'role-changed'), 'the role-changed notice')
      await expectRefusedWrite(server, client, name, 'after')
    } finally {
      client.destroy()
      await server.stop()
    }
  })
})

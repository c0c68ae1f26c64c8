import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { addMember, BOT_TOKEN, connect, JWT_SECRET, login, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'

const key = new TextEncoder().encode(JWT_SECRET)

describe('auth', () => {
  let server: BotsyncServer
  let base: string
  let ws: string

  beforeAll(async () => {
    server = await startServer()
    base = `http://127.0.0.1:${server.port}`
    ws = wsUrlOf(server)
  })
  afterAll(() => server.stop())

  it('logs in with the right password and refuses a wrong one', async () => {
    const id = uniqueSpace()
    const ana = await server.users.create({ email: `Ana-${id}@Example.com`, password: 'right password' })
    await addMember(server, id, ana.id, 'editor')
    // Emails are matched case-insensitively.
    const token = await login(base, `ana-${id}@example.com`, 'right password')
    const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })
    // No global role any more: the roles are per space.
    const body = await me.json()
    expect(body).toMatchObject({ principal: { kind: 'admin', email: `ana-${id}@example.com` }, spaces: [{ id, name: id, role: 'editor', deletingAt: null }] })
    expect(body.principal.role).toBeUndefined()

    const wrong = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `ana-${id}@example.com`, password: 'wrong' }),
    })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ error: 'invalid-credentials' })

    const unknown = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'right password' }),
    })
    expect(unknown.status).toBe(401)
  })

  it('stores a real KDF hash, not the password', async () => {
    const email = `kdf-${uniqueSpace()}@example.com`
    await server.users.create({ email, password: 'secret-pass' })
    const rows = await server.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [email])
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/)
    expect(rows[0].password_hash).not.toContain('secret-pass')
  })

  it('rejects malformed login bodies with a clear error', async () => {
    const response = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid-json' })
  })

  const refusals: Array<[string, () => Promise<string>, string]> = [
    [
      'a forged JWT',
      () =>
        new SignJWT({ role: 'owner', email: 'x@y' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('botsync')
          .setSubject('1')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('another secret')),
      'invalid-token',
    ],
    [
      'an expired JWT',
      () =>
        new SignJWT({ role: 'owner', email: 'x@y' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('botsync')
          .setSubject('1')
          .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
          .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
          .sign(key),
      'token-expired',
    ],
    [
      'a valid JWT of a user who does not exist (a role claim counts for nothing)',
      () => new SignJWT({ role: 'owner', email: 'x@y' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('botsync').setSubject('999999999999').setExpirationTime('1h').sign(key),
      'user-not-found',
    ],
    ['garbage', async () => 'not-a-token', 'invalid-token'],
  ]
  for (const [label, makeToken, reason] of refusals) {
    it(`refuses ${label} with reason ${reason}`, async () => {
      const client = connect(ws, `${uniqueSpace()}/settings`, await makeToken())
      try {
        expect(await client.authFailure).toBe(reason)
      } finally {
        client.destroy()
      }
    })
  }

  it('refuses the bot outside its space', async () => {
    const client = connect(ws, `${uniqueSpace()}/settings`, BOT_TOKEN)
    try {
      expect(await client.authFailure).toBe('forbidden-space')
    } finally {
      client.destroy()
    }
  })

  for (const role of ['viewer', 'bot'] as const) {
    it(`does not apply, store or broadcast a ${role}'s edit`, async () => {
      const space = role === 'bot' ? 'demo' : uniqueSpace()
      const name = role === 'bot' ? `demo/scenario/readonly-${uniqueSpace()}` : `${space}/settings`
      const editor = connect(ws, name, await userToken(server, 'editor', space))
      await synced(editor)
      editor.doc.getMap('settings').set('seen', 'by editor')
      await synced(editor)

      const readOnly = connect(ws, name, role === 'bot' ? BOT_TOKEN : await userToken(server, 'viewer', space))
      await synced(readOnly)
      expect(readOnly.doc.getMap('settings').get('seen')).toBe('by editor')

      readOnly.doc.getMap('settings').set('intruder', role)
      await waitFor(() => readOnly.stateless.length > 0, 'the refusal notice')
      expect(JSON.parse(readOnly.stateless[0])).toMatchObject({ type: 'botsync:refused', reason: 'read-only' })

      // The editor keeps working and never sees the refused change …
      editor.doc.getMap('settings').set('after', 'refusal')
      await synced(editor)
      await waitFor(() => readOnly.doc.getMap('settings').get('after') === 'refusal', 'the read-only client to receive later edits')
      expect(editor.doc.getMap('settings').get('intruder')).toBeUndefined()
      // … the server's copy does not have it …
      expect(server.server.hocuspocus.documents.get(name)?.getMap('settings').get('intruder')).toBeUndefined()
      // … and neither does the database.
      const stored = new Y.Doc()
      Y.applyUpdate(stored, (await server.store.load(name)).state!)
      expect(stored.getMap('settings').toJSON()).toEqual({ seen: 'by editor', after: 'refusal' })
      editor.destroy()
      readOnly.destroy()
    })
  }

  it('keeps the activity document read-only even for owners', async () => {
    const space = uniqueSpace()
    const name = `${space}/activity`
    const owner = connect(ws, name, await userToken(server, 'owner', space))
    await synced(owner)
    owner.doc.getMap('activity').set('forged', 1)
    await waitFor(() => owner.stateless.length > 0, 'the refusal notice')
    expect((await server.store.load(name)).state).toBeNull()
    owner.destroy()
  })
})

import { describe, expect, it, vi } from 'vitest'
import { BotState } from '../src/lib/bot/bot-state.svelte.ts'
import { InviteState } from '../src/lib/invites/invite-state.svelte.ts'
import { MembersState, relativeTime } from '../src/lib/members/members-state.svelte.ts'
import { SpacesState } from '../src/lib/spaces/spaces-state.svelte.ts'
import { FakeApi, settle } from './fake-api.ts'

const token = () => 'tok'
const demo = { id: 'demo', name: 'Demo shop', role: 'owner', deletingAt: null }
const acme = { id: 'acme', name: 'Acme', role: 'viewer', deletingAt: null }

describe('SpacesState', () => {
  it('lists the caller’s spaces with their role per space, sent with the token', async () => {
    const api = new FakeApi().on('GET /api/spaces', { body: { spaces: [demo, acme, { id: 'broken', role: 'root' }] } })
    const spaces = new SpacesState({ token, fetch: api.fetch })
    expect(await spaces.refresh()).toBe(true)
    expect(spaces.list.map((s) => s.id)).toEqual(['acme', 'demo'])
    expect(spaces.roleOf('demo')).toBe('owner')
    expect(spaces.roleOf('acme')).toBe('viewer')
    expect(spaces.roleOf('other')).toBeNull()
    expect(spaces.readOnlyIn('acme')).toBe(true)
    expect(spaces.readOnlyIn('demo')).toBe(false)
    // Not known (yet): editable, the server decides.
    expect(spaces.readOnlyIn('other')).toBe(false)
    expect(api.calls[0].authorization).toBe('Bearer tok')
  })

  it('keeps the last list on this device, so a reload made offline knows the role; knowing nothing opens read-only', async () => {
    const storage = new Map<string, string>()
    const fakeStorage = { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v) } as Storage
    const api = new FakeApi().on('GET /api/spaces', { body: { spaces: [demo, acme] } })
    const first = new SpacesState({ token, fetch: api.fetch, storage: fakeStorage, cacheKey: 'botsync:spaces:1' })
    // Nothing known yet: read-only until the server (or the list) says.
    expect(first.readOnlyIn('demo')).toBe(true)
    await first.refresh()
    expect(first.readOnlyIn('demo')).toBe(false)

    const offline = (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch
    const reloaded = new SpacesState({ token, fetch: offline, storage: fakeStorage, cacheKey: 'botsync:spaces:1' })
    expect(await reloaded.refresh()).toBe(false)
    expect(reloaded.loaded).toBe(false)
    expect(reloaded.roleOf('demo')).toBe('owner')
    expect(reloaded.readOnlyIn('demo')).toBe(false)
    expect(reloaded.readOnlyIn('acme')).toBe(true)
    expect(new SpacesState({ token, fetch: offline, storage: fakeStorage, cacheKey: 'botsync:spaces:2' }).list).toEqual([])
  })

  it('creates a space, refusing a bad id before asking and showing the server’s space-exists', async () => {
    const api = new FakeApi().on('POST /api/spaces', ({ body }) =>
      (body as { id: string }).id === 'taken'
        ? { status: 409, body: { error: 'space-exists', message: 'space taken exists' } }
        : { status: 201, body: { space: { ...(body as object), role: 'owner', deletingAt: null } } },
    )
    const spaces = new SpacesState({ token, fetch: api.fetch })
    const bad = await spaces.create('Not Valid', 'x')
    expect(bad).toMatchObject({ ok: false, error: 'invalid-space', field: 'id' })
    expect(api.calls).toHaveLength(0)
    expect(await spaces.create('shop', '  ')).toMatchObject({ ok: false, field: 'name' })
    expect(await spaces.create('taken', 'Taken')).toEqual({ ok: false, error: 'space-exists', field: 'id', message: 'A space with this id already exists. Choose another id.' })
    const made = await spaces.create('shop', ' My shop ')
    expect(made).toMatchObject({ ok: true, space: { id: 'shop', name: 'My shop', role: 'owner' } })
    expect(api.callsTo('POST /api/spaces').at(-1)?.body).toEqual({ id: 'shop', name: 'My shop' })
    expect(spaces.roleOf('shop')).toBe('owner')
  })

  it('deletes only with the id typed as confirmation, and restores', async () => {
    const later = Date.now() + 7 * 86_400_000
    const api = new FakeApi()
      .on('GET /api/spaces', { body: { spaces: [demo] } })
      .on('DELETE /api/spaces/demo', { body: { deletingAt: later } })
      .on('POST /api/spaces/demo/restore', { body: {} })
    const spaces = new SpacesState({ token, fetch: api.fetch })
    await spaces.refresh()
    expect(await spaces.remove('demo', 'dem')).toMatchObject({ ok: false, error: 'confirm-mismatch' })
    expect(api.callsTo('DELETE /api/spaces/demo')).toHaveLength(0)
    expect(await spaces.remove('demo', 'demo')).toEqual({ ok: true, deletingAt: later })
    expect(api.callsTo('DELETE /api/spaces/demo')[0].body).toEqual({ confirm: 'demo' })
    expect(spaces.find('demo')?.deletingAt).toBe(later)
    expect(spaces.readOnlyIn('demo')).toBe(true)
    expect(await spaces.restore('demo')).toEqual({ ok: true })
    expect(spaces.find('demo')?.deletingAt).toBeNull()
  })

  it('remembers a role-changed notice until a newer list gives write access back', async () => {
    let role = 'viewer'
    const api = new FakeApi().on('GET /api/spaces', () => ({ body: { spaces: [{ ...demo, role }] } }))
    const spaces = new SpacesState({ token, fetch: api.fetch })
    await spaces.refresh()
    role = 'viewer'
    spaces.noteRoleChanged('demo')
    expect(spaces.demotedIn('demo')).toBe(true)
    expect(spaces.readOnlyIn('demo')).toBe(true)
    await settle()
    expect(spaces.demotedIn('demo')).toBe(true)
    role = 'editor'
    await spaces.refresh()
    expect(spaces.demotedIn('demo')).toBe(false)
    expect(spaces.roleOf('demo')).toBe('editor')
  })

  it('tells "removed" from "never a member" and "no such space", until a later list has the space again', async () => {
    let list: unknown[] = [demo, acme]
    const api = new FakeApi().on('GET /api/spaces', () => ({ body: { spaces: list } }))
    const spaces = new SpacesState({ token, fetch: api.fetch })
    await spaces.refresh()
    list = [demo]
    expect(spaces.noteRefused('acme', 'forbidden-space')).toBe('removed')
    expect(spaces.noteRefused('other', 'forbidden-space')).toBe('forbidden-space')
    expect(spaces.noteRefused('gone', 'unknown-space')).toBe('unknown-space')
    await settle()
    expect(spaces.refusal('acme')).toBe('removed')
    expect(spaces.find('acme')).toBeUndefined()
    // Invited again: the next list has it.
    list = [demo, acme]
    await spaces.refresh()
    expect(spaces.refusal('acme')).toBeNull()
    expect(spaces.refusal('other')).toBe('forbidden-space')
  })

  it('after a 4403 close, a known space missing from the list is "removed"', async () => {
    let list: unknown[] = [demo, acme]
    const api = new FakeApi().on('GET /api/spaces', () => ({ body: { spaces: list } }))
    const spaces = new SpacesState({ token, fetch: api.fetch })
    await spaces.refresh()
    await spaces.checkMembership('acme')
    expect(spaces.refusal('acme')).toBeNull()
    list = [demo]
    await spaces.checkMembership('acme')
    expect(spaces.refusal('acme')).toBe('removed')
  })

  it('keeps the last list when the server is unreachable', async () => {
    let online = true
    const api = new FakeApi().on('GET /api/spaces', { body: { spaces: [demo] } })
    const fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
      online ? api.fetch(input, init) : Promise.reject(new TypeError('Failed to fetch'))) as typeof globalThis.fetch
    const spaces = new SpacesState({ token, fetch })
    await spaces.refresh()
    online = false
    expect(await spaces.refresh()).toBe(false)
    expect(spaces.error).toMatch(/Cannot reach the server/)
    expect(spaces.roleOf('demo')).toBe('owner')
  })
})

describe('MembersState', () => {
  const base = '/api/spaces/demo'
  const ana = { userId: 1, email: 'ana@example.com', name: 'Ana', role: 'owner', lastSeenAt: Date.now() - 120_000 }
  const ben = { userId: '2', email: 'ben@example.com', name: 'Ben', role: 'editor', lastSeenAt: null }

  function server() {
    let members = [ana, ben]
    const invites: unknown[] = [{ id: 7, email: 'cy@example.com', role: 'viewer', kind: 'invite', createdAt: 1, expiresAt: Date.now() + 86_400_000 }]
    const api = new FakeApi()
      .on(`GET ${base}/members`, () => ({ body: { members, invites } }))
      .on(`PATCH ${base}/members/2`, ({ body }) => {
        members = members.map((m) => (m.userId === '2' ? { ...m, role: (body as { role: string }).role } : m))
        return { body: { member: members[1] } }
      })
      .on(`PATCH ${base}/members/1`, { status: 409, body: { error: 'last-owner', message: 'space demo must keep an owner' } })
      .on(`DELETE ${base}/members/2`, () => {
        members = members.filter((m) => m.userId !== '2')
        return { status: 204 }
      })
      .on(`POST ${base}/members/2/reset`, { status: 201, body: { url: 'http://x/#/invite/resettoken123', expiresAt: 5, emailed: false } })
      .on(`POST ${base}/invites`, ({ body }) =>
        (body as { email: string }).email === 'ben@example.com'
          ? { status: 409, body: { error: 'already-member', message: 'ben is a member' } }
          : { status: 201, body: { id: 8, url: 'http://x/#/invite/invitetoken123', expiresAt: 6, emailed: true } },
      )
      .on(`DELETE ${base}/invites/7`, { status: 204 })
    return api
  }

  it('lists people by name with role and last seen, and owners’ pending invites', async () => {
    const api = server()
    const members = new MembersState('demo', { token, fetch: api.fetch })
    await members.refresh()
    expect(members.members.map((m) => [m.userId, m.name, m.role])).toEqual([
      ['1', 'Ana', 'owner'],
      ['2', 'Ben', 'editor'],
    ])
    expect(members.invites).toEqual([expect.objectContaining({ id: '7', email: 'cy@example.com', role: 'viewer', kind: 'invite' })])
    expect(relativeTime(members.members[0].lastSeenAt)).toBe('2 minutes ago')
    expect(relativeTime(null)).toBe('never')
  })

  it('changes roles, says why the last owner cannot step down, removes, resets and invites', async () => {
    const api = server()
    const members = new MembersState('demo', { token, fetch: api.fetch })
    await members.refresh()
    expect(await members.setRole('2', 'viewer')).toEqual({ ok: true })
    expect(api.callsTo(`PATCH ${base}/members/2`)[0].body).toEqual({ role: 'viewer' })
    expect(members.members[1].role).toBe('viewer')
    expect(await members.setRole('1', 'editor')).toEqual({ ok: false, error: 'last-owner', message: 'A space needs at least one owner: make someone else an owner first.' })

    expect(await members.resetPassword('2')).toEqual({ ok: true, link: { url: 'http://x/#/invite/resettoken123', expiresAt: 5, emailed: false } })
    expect(await members.invite('not an email', 'editor')).toMatchObject({ ok: false, error: 'invalid-email' })
    expect(await members.invite('ben@example.com', 'editor')).toMatchObject({ ok: false, error: 'already-member', message: 'This person is already a member of the space.' })
    expect(await members.invite(' cy2@example.com ', 'viewer')).toEqual({ ok: true, link: { url: 'http://x/#/invite/invitetoken123', expiresAt: 6, emailed: true } })
    expect(api.callsTo(`POST ${base}/invites`).at(-1)?.body).toEqual({ email: 'cy2@example.com', role: 'viewer' })
    expect(await members.revoke('7')).toEqual({ ok: true })

    expect(await members.remove('2')).toEqual({ ok: true })
    expect(members.members.map((m) => m.userId)).toEqual(['1'])
    expect(members.busy).toBe(false)
  })
})

describe('InviteState', () => {
  const info = { space: 'demo', spaceName: 'Demo shop', email: 'ben@example.com', role: 'editor', kind: 'invite', existingUser: false, expiresAt: Date.now() + 1000 }
  const login = { token: 'jwt', expiresAt: Date.now() + 900_000, user: { id: '2', email: 'ben@example.com', name: 'Ben' } }

  it('a new user sets name and password (checked first) and gets a login session back', async () => {
    const api = new FakeApi().on('GET /api/invites/tok12345', { body: info }).on('POST /api/invites/tok12345/accept', { body: login })
    const invite = new InviteState('tok12345', { fetch: api.fetch })
    await invite.load()
    expect(invite.status).toBe('ready')
    expect(invite.info).toMatchObject({ spaceName: 'Demo shop', role: 'editor', existingUser: false })
    expect(await invite.accept({ name: '', password: 'longenough' })).toMatchObject({ ok: false, field: 'name' })
    expect(await invite.accept({ name: 'Ben', password: 'short' })).toMatchObject({ ok: false, field: 'password' })
    expect(await invite.accept({ name: 'Ben', password: 'longenough', confirm: 'different' })).toMatchObject({ ok: false, field: 'confirm' })
    expect(api.callsTo('POST /api/invites/tok12345/accept')).toHaveLength(0)
    expect(await invite.accept({ name: ' Ben ', password: 'longenough', confirm: 'longenough' })).toEqual({ ok: true, session: login })
    expect(api.callsTo('POST /api/invites/tok12345/accept')[0]).toMatchObject({ body: { name: 'Ben', password: 'longenough' }, authorization: null })
  })

  it('an existing user just joins; a reset sends only the password', async () => {
    const api = new FakeApi()
      .on('GET /api/invites/join1234', { body: { ...info, existingUser: true } })
      .on('POST /api/invites/join1234/accept', { body: { joined: 'demo' } })
      .on('GET /api/invites/reset123', { body: { ...info, kind: 'reset', existingUser: true } })
      .on('POST /api/invites/reset123/accept', { body: login })
    const join = new InviteState('join1234', { fetch: api.fetch })
    await join.load()
    expect(await join.accept()).toEqual({ ok: true, joined: 'demo' })
    expect(api.callsTo('POST /api/invites/join1234/accept')[0].body).toEqual({})
    const reset = new InviteState('reset123', { fetch: api.fetch })
    await reset.load()
    expect(await reset.accept({ password: 'newpassword' })).toEqual({ ok: true, session: login })
    expect(api.callsTo('POST /api/invites/reset123/accept')[0].body).toEqual({ password: 'newpassword' })
  })

  it('says when a link is unknown, expired or used', async () => {
    const api = new FakeApi()
      .on('GET /api/invites/missing1', { status: 404, body: { error: 'invite-not-found', message: 'no such invite' } })
      .on('GET /api/invites/expired1', { status: 410, body: { error: 'invite-expired', message: 'expired' } })
      .on('GET /api/invites/usedused', { status: 410, body: { error: 'invite-used', message: 'used' } })
    const states = await Promise.all(
      ['missing1', 'expired1', 'usedused'].map(async (t) => {
        const invite = new InviteState(t, { fetch: api.fetch })
        await invite.load()
        return [invite.status, invite.message]
      }),
    )
    expect(states).toEqual([
      ['invalid', 'This link is not valid. Check that you copied all of it, or ask for a new one.'],
      ['expired', 'This link has expired. Ask an owner of the space for a new one.'],
      ['used', 'This link has already been used. Ask an owner of the space for a new one if you still need it.'],
    ])
  })
})

describe('BotState', () => {
  it('reads the status, saves a token (Telegram’s refusal as text) and removes the bot', async () => {
    let configured: unknown = { configured: false }
    const api = new FakeApi()
      .on('GET /api/spaces/demo/bot', () => ({ body: configured }))
      .on('PUT /api/spaces/demo/bot', ({ body }) => {
        if ((body as { token: string }).token === 'bad') return { status: 400, body: { error: 'telegram-refused', message: 'Unauthorized' } }
        configured = { configured: true, username: 'demo_bot', status: 'failing', error: 'Conflict: terminated by other getUpdates request' }
        return { body: { username: 'demo_bot' } }
      })
      .on('DELETE /api/spaces/demo/bot', { status: 204 })
    const bot = new BotState('demo', { token, fetch: api.fetch })
    await bot.refresh()
    expect(bot.bot).toEqual({ configured: false })
    expect(await bot.save('bad')).toEqual({ ok: false, error: 'telegram-refused', message: 'Unauthorized' })
    expect(await bot.save(' 123:abc ')).toEqual({ ok: true })
    expect(api.callsTo('PUT /api/spaces/demo/bot').at(-1)?.body).toEqual({ token: '123:abc' })
    expect(bot.username).toBe('demo_bot')
    await settle()
    expect(bot.bot).toEqual({ configured: true, username: 'demo_bot', status: 'failing', error: 'Conflict: terminated by other getUpdates request' })
    expect(await bot.remove()).toEqual({ ok: true })
    expect(bot.username).toBeNull()
  })

  it('polls every 10 s only while the page is visible', async () => {
    vi.useFakeTimers()
    try {
      const api = new FakeApi().on('GET /api/spaces/demo/bot', { body: { configured: true, username: 'b', status: 'connected' } })
      const bot = new BotState('demo', { token, fetch: api.fetch })
      let visibility: DocumentVisibilityState = 'visible'
      vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility)
      bot.startPolling()
      await vi.advanceTimersByTimeAsync(25_000)
      expect(api.calls).toHaveLength(3)
      visibility = 'hidden'
      await vi.advanceTimersByTimeAsync(30_000)
      expect(api.calls).toHaveLength(3)
      visibility = 'visible'
      document.dispatchEvent(new Event('visibilitychange'))
      await vi.advanceTimersByTimeAsync(0)
      expect(api.calls).toHaveLength(4)
      bot.destroy()
      await vi.advanceTimersByTimeAsync(30_000)
      expect(api.calls).toHaveLength(4)
    } finally {
      vi.useRealTimers()
      vi.restoreAllMocks()
    }
  })
})

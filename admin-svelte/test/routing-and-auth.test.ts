import { describe, expect, it, vi } from 'vitest'
import { AuthState } from '../src/lib/auth/auth-state.svelte.ts'
import { PendingEdits } from '../src/lib/connection/pending-edits.ts'
import { href, inviteHref, parseRoute, routeSpace, SPACES_HREF } from '../src/lib/routing/route.ts'

describe('routes', () => {
  it('parses the hash routes of a space, defaulting to the demo scenarios', () => {
    expect(parseRoute('')).toEqual({ space: 'demo', page: 'scenarios' })
    expect(parseRoute('#/acme')).toEqual({ space: 'acme', page: 'scenarios' })
    expect(parseRoute('#/acme/buttons')).toEqual({ space: 'acme', page: 'buttons' })
    expect(parseRoute('#/acme/scenario/onboarding')).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'onboarding', view: null })
    expect(parseRoute('#/acme/scenario/onboarding/map')).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'onboarding', view: 'map' })
    expect(parseRoute(href('acme', 'scenario', 'x1', 'list'))).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'x1', view: 'list' })
    expect(parseRoute('#/acme/scenario/onboarding/graph').page).toBe('not-found')
    expect(parseRoute('#/acme/scenario/bad%2Fid').page).toBe('not-found')
    expect(parseRoute('#/Not A Space/buttons').page).toBe('not-found')
    expect(href('acme', 'scenario', 'x1')).toBe('#/acme/scenario/x1')
    expect(parseRoute(href('acme', 'settings'))).toEqual({ space: 'acme', page: 'settings' })
  })

  it('parses the members page, the spaces list and invite links', () => {
    expect(parseRoute('#/acme/members')).toEqual({ space: 'acme', page: 'members' })
    expect(parseRoute(href('acme', 'members'))).toEqual({ space: 'acme', page: 'members' })
    expect(parseRoute('#/spaces')).toEqual({ page: 'spaces' })
    expect(parseRoute(SPACES_HREF)).toEqual({ page: 'spaces' })
    // A space called "spaces" is still reachable with a page.
    expect(parseRoute('#/spaces/scenarios')).toEqual({ space: 'spaces', page: 'scenarios' })
    expect(parseRoute('#/invite/AbC-_123xyz.9')).toEqual({ page: 'invite', token: 'AbC-_123xyz.9' })
    expect(parseRoute(inviteHref('t0k3n-abcdef'))).toEqual({ page: 'invite', token: 't0k3n-abcdef' })
    expect(parseRoute('#/invite/').page).toBe('not-found')
    expect(parseRoute('#/invite/bad token!').page).toBe('not-found')
    expect(parseRoute('#/invite/abcdefgh/extra').page).toBe('not-found')
    expect(routeSpace(parseRoute('#/acme/members'))).toBe('acme')
    expect(routeSpace(parseRoute('#/spaces'))).toBeNull()
    expect(routeSpace(parseRoute('#/invite/abcdefgh'))).toBeNull()
  })
})

describe('AuthState', () => {
  it('restores a stored session, and forgets it on logout or expiry', () => {
    const stored = { token: 't', expiresAt: 1, user: { id: '1', email: 'a@b.c', name: 'Ana', role: 'viewer' } }
    sessionStorage.setItem('botsync:session', JSON.stringify(stored))
    const auth = new AuthState({ storage: sessionStorage })
    expect(auth.user?.name).toBe('Ana')
    // Roles are per space (GET /api/spaces): the session user has none.
    expect(auth.user).toEqual({ id: '1', email: 'a@b.c', name: 'Ana' })
    auth.expire('token-expired')
    expect(auth.session).toBeNull()
    expect(sessionStorage.getItem('botsync:session')).toBeNull()
    expect(auth.notice).toMatch(/expired/)
  })

  it('retries a refresh the network failed every 10 s, not in a tight loop, even past expiry', async () => {
    vi.useFakeTimers()
    try {
      const stored = { token: 't', expiresAt: Date.now() - 1_000, user: { id: '1', email: 'a@b.c', name: 'Ana', role: 'editor' } }
      const storage = new Map<string, string>([['botsync:session', JSON.stringify(stored)]])
      let calls = 0
      const offline = (async () => {
        calls += 1
        throw new TypeError('Failed to fetch')
      }) as typeof fetch
      const auth = new AuthState({
        storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) } as Storage,
        fetch: offline,
      })
      await vi.advanceTimersByTimeAsync(5_000)
      expect(calls).toBe(1)
      await vi.advanceTimersByTimeAsync(10_000)
      expect(calls).toBe(2)
      // Offline is not the end of the session: the page keeps working on its local copies.
      expect(auth.session?.token).toBe('t')
      auth.logout()
    } finally {
      vi.useRealTimers()
    }
  })

  it('adopts the session an accepted invite answers with, without reading a role', () => {
    const storage = new Map<string, string>()
    const auth = new AuthState({
      storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) } as Storage,
      autoRefresh: false,
    })
    expect(auth.adopt({ joined: 'demo' })).toBe(false)
    expect(auth.session).toBeNull()
    const body = { token: 'jwt', expiresAt: Date.now() + 60_000, user: { id: '2', email: 'ben@example.com', name: 'Ben' } }
    expect(auth.adopt(body)).toBe(true)
    expect(auth.user).toEqual({ id: '2', email: 'ben@example.com', name: 'Ben' })
    expect(auth.token).toBe('jwt')
    expect(JSON.parse(storage.get('botsync:session') ?? 'null')).toEqual(body)
  })

  it('ignores a malformed stored session', () => {
    sessionStorage.setItem('botsync:session', JSON.stringify({ token: 't', user: { role: 'root' } }))
    expect(new AuthState({ storage: sessionStorage, autoRefresh: false }).session).toBeNull()
  })

  it('logs a new tab in from the refresh cookie, without the form', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = []
    const server = (async (url: string, init?: RequestInit) => {
      calls.push({ url, init })
      return json(200, { token: 'fresh', expiresAt: Date.now() + 3_600_000, user: ana })
    }) as typeof fetch
    const auth = new AuthState({ storage: memoryStorage(), fetch: server })
    expect(auth.restoring).toBe(true)
    await vi.waitFor(() => expect(auth.session?.token).toBe('fresh'))
    expect(auth.restoring).toBe(false)
    // The cookie alone: no Authorization, and the CSRF header the server requires.
    expect(calls[0].url).toBe('/api/refresh')
    expect(calls[0].init).toMatchObject({ method: 'POST', credentials: 'same-origin', headers: { 'x-botsync': '1' } })
    expect((calls[0].init?.headers as Record<string, string>).authorization).toBeUndefined()
    await auth.logout()
  })

  it('shows the login form, without a notice, when a new tab has no session cookie', async () => {
    const auth = new AuthState({ storage: memoryStorage(), fetch: (async () => json(401, { error: 'session-expired' })) as typeof fetch })
    await vi.waitFor(() => expect(auth.restoring).toBe(false))
    expect(auth.session).toBeNull()
    expect(auth.notice).toBeNull()
  })

  it('retries a refresh another tab raced, and keeps the session', async () => {
    const answers = [json(409, { error: 'refresh-raced' }), json(200, { token: 'second', expiresAt: Date.now() + 3_600_000, user: ana })]
    const auth = new AuthState({ storage: memoryStorage(stored('first')), fetch: (async () => answers.shift()!) as typeof fetch, autoRefresh: false })
    const refreshed: string[] = []
    auth.onRefreshed((token) => refreshed.push(token))
    expect(await auth.refresh()).toBe(true)
    expect(auth.token).toBe('second')
    expect(refreshed).toEqual(['second'])
    expect(answers).toEqual([])
  })

  it('sends one refresh for several callers at once in one tab', async () => {
    let calls = 0
    const server = (async () => {
      calls += 1
      return json(200, { token: `t${calls}`, expiresAt: Date.now() + 3_600_000, user: ana })
    }) as typeof fetch
    const auth = new AuthState({ storage: memoryStorage(stored('t0')), fetch: server, autoRefresh: false })
    expect(await Promise.all([auth.refresh(), auth.refresh()])).toEqual([true, true])
    expect(calls).toBe(1)
    expect(await auth.refresh()).toBe(true)
    expect(calls).toBe(2)
  })

  it('ends the session when the refresh cookie was revoked (logged out everywhere)', async () => {
    const auth = new AuthState({ storage: memoryStorage(stored('t')), fetch: (async () => json(401, { error: 'session-revoked' })) as typeof fetch, autoRefresh: false })
    expect(await auth.refresh()).toBe(false)
    expect(auth.session).toBeNull()
    expect(auth.notice).toMatch(/ended/)
  })

  it('logs out on the server (POST /api/logout) and everywhere (POST /api/logout-all with the access token)', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = []
    const server = (async (url: string, init?: RequestInit) => {
      calls.push({ url, init })
      return new Response(null, { status: 204 })
    }) as typeof fetch
    const here = new AuthState({ storage: memoryStorage(stored('t1')), fetch: server, autoRefresh: false })
    await here.logout()
    expect(here.session).toBeNull()
    expect(calls[0]).toMatchObject({ url: '/api/logout', init: { method: 'POST', headers: { 'x-botsync': '1' } } })

    const everywhere = new AuthState({ storage: memoryStorage(stored('t2')), fetch: server, autoRefresh: false })
    expect(await everywhere.logoutEverywhere()).toBe(true)
    expect(everywhere.session).toBeNull()
    expect(calls[1]).toMatchObject({ url: '/api/logout-all', init: { method: 'POST', headers: { authorization: 'Bearer t2' } } })

    // The server not reached: still logged in, so it can be tried again.
    const offline = new AuthState({
      storage: memoryStorage(stored('t3')),
      fetch: (async () => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch,
      autoRefresh: false,
    })
    expect(await offline.logoutEverywhere()).toBe(false)
    expect(offline.token).toBe('t3')
  })
})

const ana = { id: '1', email: 'a@b.c', name: 'Ana', role: 'editor' }

function stored(token: string): string {
  return JSON.stringify({ token, expiresAt: Date.now() + 3_600_000, user: ana })
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

function memoryStorage(session?: string): Storage {
  const items = new Map<string, string>(session ? [['botsync:session', session]] : [])
  return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), removeItem: (k: string) => void items.delete(k) } as Storage
}

describe('PendingEdits', () => {
  it('counts unsaved edits per user and document across instances (reloads)', () => {
    localStorage.clear()
    const first = new PendingEdits('u1', 'demo/settings', localStorage)
    first.increment()
    first.increment()
    expect(new PendingEdits('u1', 'demo/settings', localStorage).count).toBe(2)
    expect(new PendingEdits('u2', 'demo/settings', localStorage).count).toBe(0)
    expect(PendingEdits.documentsWithPendingEdits('u1', localStorage)).toEqual(['demo/settings'])
    first.clear()
    expect(PendingEdits.documentsWithPendingEdits('u1', localStorage)).toEqual([])
  })
})

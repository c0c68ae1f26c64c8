import { describe, expect, it, vi } from 'vitest'
import { AuthState } from '../src/lib/auth/auth-state.svelte.ts'
import { PendingEdits } from '../src/lib/connection/pending-edits.ts'
import { href, inviteHref, parseRoute, routeSpace, SPACES_HREF, stepHref } from '../src/lib/routing/route.ts'

describe('routes', () => {
  it('parses the hash routes of a space, defaulting to the demo scenarios', () => {
    expect(parseRoute('')).toEqual({ space: 'demo', page: 'scenarios' })
    expect(parseRoute('#/acme')).toEqual({ space: 'acme', page: 'scenarios' })
    expect(parseRoute('#/acme/buttons')).toEqual({ space: 'acme', page: 'buttons' })
    expect(parseRoute('#/acme/scenario/onboarding')).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'onboarding', view: null })
    expect(parseRoute('#/acme/scenario/onboarding/map')).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'onboarding', view: 'map' })
    expect(parseRoute(href('acme', 'scenario', 'x1', 'list'))).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'x1', view: 'list' })
    expect(parseRoute('#/acme/scenario/onboarding/graph').page).toBe('not-found')
    expect(parseRoute(stepHref('acme', 'onboarding', 'ask_name'))).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'onboarding', view: 'list', stepId: 'ask_name' })
    // A step called "map" is still a step: its link names the list view first.
    expect(parseRoute(stepHref('acme', 'onboarding', 'map'))).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'onboarding', view: 'list', stepId: 'map' })
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

describe('AuthState across the tabs of one browser', () => {
  const account = (signedIn: boolean) => JSON.stringify({ user: { id: '1', email: 'a@b.c', name: 'Ana' }, signedIn })
  const unreachable = (async () => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch

  it('opens a new tab offline with the remembered user and no token, and gets one when the network returns', async () => {
    const accounts = memoryStorage()
    accounts.setItem('botsync:account', account(true))
    const events = new EventTarget()
    let online = false
    const server = (async () => {
      if (!online) throw new TypeError('Failed to fetch')
      return json(200, { token: 'back', expiresAt: Date.now() + 3_600_000, user: ana })
    }) as typeof fetch
    const auth = new AuthState({ storage: memoryStorage(), accounts, fetch: server, events })
    await vi.waitFor(() => expect(auth.restoring).toBe(false))
    expect(auth.user).toEqual({ id: '1', email: 'a@b.c', name: 'Ana' })
    expect(auth.offline).toBe(true)
    expect(auth.token).toBeNull()
    const tokens: string[] = []
    auth.onRefreshed((token) => tokens.push(token))
    online = true
    events.dispatchEvent(new Event('online'))
    await vi.waitFor(() => expect(auth.token).toBe('back'))
    expect(auth.offline).toBe(false)
    // The open page (its sockets) hears of the first token too.
    expect(tokens).toEqual(['back'])
    await auth.logout()
  })

  it('shows the login form offline when nobody is logged in in this browser, or the session expired', async () => {
    for (const stored of [null, account(false)]) {
      const accounts = memoryStorage()
      if (stored) accounts.setItem('botsync:account', stored)
      const auth = new AuthState({ storage: memoryStorage(), accounts, fetch: unreachable, events: null })
      await vi.waitFor(() => expect(auth.restoring).toBe(false))
      expect(auth.user).toBeNull()
      auth.logout()
    }
  })

  it('keeps the email for the login form after the session expired, and forgets it at a logout', async () => {
    const accounts = memoryStorage()
    const auth = new AuthState({ storage: memoryStorage(stored('t')), accounts, fetch: (async () => json(401, { error: 'session-expired' })) as typeof fetch, autoRefresh: false })
    expect(await auth.refresh()).toBe(false)
    expect(auth.session).toBeNull()
    expect(auth.lastEmail).toBe('a@b.c')
    expect(JSON.parse(accounts.getItem('botsync:account')!)).toMatchObject({ signedIn: false })
    // A new tab after that expiry: the email is there, and nothing opens offline.
    const later = new AuthState({ storage: memoryStorage(), accounts, fetch: unreachable, events: null })
    await vi.waitFor(() => expect(later.restoring).toBe(false))
    expect(later.user).toBeNull()
    expect(later.lastEmail).toBe('a@b.c')

    const loggedIn = new AuthState({ storage: memoryStorage(stored('t2')), accounts, fetch: (async () => new Response(null, { status: 204 })) as typeof fetch, autoRefresh: false })
    expect(loggedIn.lastEmail).toBe('a@b.c')
    await loggedIn.logout()
    expect(loggedIn.lastEmail).toBeNull()
    expect(accounts.getItem('botsync:account')).toBeNull()
  })

  it('logs out when another tab logged out, and asks the cookie when another tab logged in', async () => {
    const events = new EventTarget()
    const accounts = memoryStorage()
    let refreshes = 0
    const server = (async () => {
      refreshes += 1
      return json(200, { token: 'from-cookie', expiresAt: Date.now() + 3_600_000, user: ana })
    }) as typeof fetch
    const auth = new AuthState({ storage: memoryStorage(stored('t')), accounts, fetch: server, autoRefresh: false, events })
    const other = (newValue: string | null) => events.dispatchEvent(new StorageEvent('storage', { key: 'botsync:account', newValue }))
    // Another key, or the same record written again: nothing happens.
    events.dispatchEvent(new StorageEvent('storage', { key: 'botsync:spaces:1', newValue: '[]' }))
    other(account(true))
    expect(auth.token).toBe('t')
    expect(refreshes).toBe(0)

    other(null)
    expect(auth.session).toBeNull()
    expect(auth.notice).toMatch(/logged out in another tab/)
    expect(auth.lastEmail).toBeNull()

    other(account(true))
    await vi.waitFor(() => expect(auth.token).toBe('from-cookie'))
    expect(refreshes).toBe(1)
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

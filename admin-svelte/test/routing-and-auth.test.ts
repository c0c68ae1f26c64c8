import { describe, expect, it, vi } from 'vitest'
import { AuthState } from '../src/lib/auth/auth-state.svelte.ts'
import { PendingEdits } from '../src/lib/connection/pending-edits.ts'
import { href, inviteHref, parseRoute, routeSpace, SPACES_HREF } from '../src/lib/routing/route.ts'

describe('routes', () => {
  it('parses the hash routes of a space, defaulting to the demo scenarios', () => {
    expect(parseRoute('')).toEqual({ space: 'demo', page: 'scenarios' })
    expect(parseRoute('#/acme')).toEqual({ space: 'acme', page: 'scenarios' })
    expect(parseRoute('#/acme/buttons')).toEqual({ space: 'acme', page: 'buttons' })
    expect(parseRoute('#/acme/scenario/onboarding')).toEqual({ space: 'acme', page: 'scenario', scenarioId: 'onboarding' })
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
    expect(new AuthState({ storage: sessionStorage }).session).toBeNull()
  })
})

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

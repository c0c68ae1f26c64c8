// The logged-in shell against a fake API (no collaboration server behind
// it): the header's space switcher and bot status, the per-space role, and
// the first page taking someone who is not in the demo space to theirs.
import { render, waitFor } from '@testing-library/svelte'
import { afterEach, describe, expect, it, vi } from 'vitest'
import AppShell from '../src/app-shell.svelte'
import { AuthState } from '../src/lib/auth/auth-state.svelte.ts'
import { parseRoute } from '../src/lib/routing/route.ts'
import { SpacesState } from '../src/lib/spaces/spaces-state.svelte.ts'
import { FakeApi } from './fake-api.ts'

/** A socket that never connects: the shell's documents stay on "Connecting…". */
class SilentWebSocket extends EventTarget {
  static readonly CONNECTING = 0
  readonly readyState = 0
  binaryType = 'arraybuffer'
  onopen = null
  onclose = null
  onerror = null
  onmessage = null
  send(): void {}
  close(): void {}
}

function shell(api: FakeApi, hash: string, spaces?: SpacesState) {
  vi.stubGlobal('fetch', api.fetch)
  vi.stubGlobal('WebSocket', SilentWebSocket)
  location.hash = hash
  const auth = new AuthState({ storage: null, autoRefresh: false, fetch: api.fetch })
  auth.adopt({ token: 'jwt', expiresAt: Date.now() + 900_000, user: { id: '1', email: 'ana@example.com', name: 'Ana' } })
  const go = vi.fn()
  const view = render(AppShell, { auth, user: auth.user!, route: parseRoute(hash), go, spaces })
  return { view, go }
}

describe('AppShell', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    location.hash = ''
  })

  it('shows the space, the role there and the space’s bot in the header', async () => {
    const api = new FakeApi()
      .on('GET /api/spaces', { body: { spaces: [{ id: 'acme', name: 'Acme', role: 'viewer', deletingAt: null }] } })
      .on('GET /api/spaces/acme/bot', { body: { configured: true, username: 'acme_bot', status: 'failing', error: 'Unauthorized' } })
    const { view } = shell(api, '#/acme/members')
    await view.findByRole('button', { name: 'Space: Acme Viewer' })
    expect((await view.findByTestId('my-role')).textContent).toBe('Viewer')
    const bot = await view.findByTestId('bot-status')
    expect(bot.textContent?.replace(/\s+/g, ' ').trim()).toBe('@acme_bot Telegram bot failing: Unauthorized')
    expect(bot.getAttribute('title')).toBe('Telegram bot @acme_bot: failing: Unauthorized')
    expect(view.getByRole('link', { name: 'Members' }).getAttribute('aria-current')).toBe('page')
    await view.findByRole('heading', { name: 'Members', level: 1 })
  })

  it('takes someone who is not in the demo space from the first page to a space of theirs', async () => {
    const api = new FakeApi().on('GET /api/spaces', { body: { spaces: [{ id: 'acme', name: 'Acme', role: 'owner', deletingAt: null }] } })
    const { go } = shell(api, '')
    await waitFor(() => expect(go).toHaveBeenCalledWith('#/acme/scenarios'))
  })

  it('says "You are a viewer in this space now" after role-changed, and "You were removed" instead of the editors', async () => {
    let list = [{ id: 'acme', name: 'Acme', role: 'editor', deletingAt: null }]
    const api = new FakeApi().on('GET /api/spaces', () => ({ body: { spaces: list } })).on('GET /api/spaces/acme/bot', { body: { configured: false } })
    const spaces = new SpacesState({ token: () => 'jwt', fetch: api.fetch })
    const { view } = shell(api, '#/acme/scenarios', spaces)
    await view.findByRole('button', { name: 'Space: Acme Editor' })
    expect(view.queryByTestId('read-only-now')).toBeNull()

    list = [{ ...list[0], role: 'viewer' }]
    spaces.noteRoleChanged('acme')
    const banner = await view.findByTestId('read-only-now')
    expect(banner.getAttribute('role')).toBe('alert')
    expect(banner.textContent).toContain('You are a viewer in this space now.')
    await view.findByRole('button', { name: 'Space: Acme Viewer' })

    list = []
    spaces.noteRefused('acme', 'forbidden-space')
    await view.findByRole('heading', { name: 'You were removed from this space', level: 1 })
    expect(view.queryByTestId('read-only-now')).toBeNull()
    expect(view.queryByRole('heading', { name: 'Scenarios' })).toBeNull()
    expect(view.getByRole('link', { name: 'Go to your spaces' }).getAttribute('href')).toBe('#/spaces')
  })

  it('a space that does not exist gets a page saying so', async () => {
    const api = new FakeApi().on('GET /api/spaces', { body: { spaces: [] } })
    const spaces = new SpacesState({ token: () => 'jwt', fetch: api.fetch })
    const { view } = shell(api, '#/nowhere/scenarios', spaces)
    spaces.noteRefused('nowhere', 'unknown-space')
    await view.findByRole('heading', { name: 'This space does not exist', level: 1 })
  })
})

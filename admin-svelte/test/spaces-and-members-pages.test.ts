// The new pages rendered against a fake API: what a person (and the
// end-to-end tests) find by role and label.
import { fireEvent, render, waitFor } from '@testing-library/svelte'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { AuthState } from '../src/lib/auth/auth-state.svelte.ts'
import BotSettings from '../src/lib/bot/bot-settings.svelte'
import { BotState } from '../src/lib/bot/bot-state.svelte.ts'
import InvitePage from '../src/lib/invites/invite-page.svelte'
import MembersPage from '../src/lib/members/members-page.svelte'
import SpaceSwitcher from '../src/lib/spaces/space-switcher.svelte'
import SpacesPage from '../src/lib/spaces/spaces-page.svelte'
import { SpacesState } from '../src/lib/spaces/spaces-state.svelte.ts'
import { FakeApi } from './fake-api.ts'

const token = () => 'tok'

beforeAll(() => {
  // jsdom has <dialog> without its modal methods.
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.open = true
  }
  HTMLDialogElement.prototype.close ??= function (this: HTMLDialogElement) {
    this.open = false
    this.dispatchEvent(new Event('close'))
  }
})

function spacesApi(): FakeApi {
  return new FakeApi().on('GET /api/spaces', {
    body: {
      spaces: [
        { id: 'demo', name: 'Demo shop', role: 'owner', deletingAt: null },
        { id: 'acme', name: 'Acme', role: 'viewer', deletingAt: Date.now() + 86_400_000 },
      ],
    },
  })
}

describe('SpaceSwitcher', () => {
  it('is a menu button listing the spaces with their role, the current one checked, and "New space…"', async () => {
    const spaces = new SpacesState({ token, fetch: spacesApi().fetch })
    await spaces.refresh()
    const view = render(SpaceSwitcher, { spaces, current: 'demo', page: 'settings' })
    const button = view.getByRole('button', { name: 'Space: Demo shop Owner' })
    expect(button.getAttribute('aria-expanded')).toBe('false')
    await fireEvent.click(button)
    const menu = view.getByRole('menu', { name: 'Spaces' })
    const items = view.getAllByRole('menuitemradio')
    expect(items.map((item) => item.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['Acme acme Deleting Viewer', 'Demo shop demo Owner'])
    expect(view.getByRole('menuitemradio', { name: /Demo shop/ }).getAttribute('aria-checked')).toBe('true')
    expect(view.getByRole('menuitemradio', { name: /Acme/ }).getAttribute('href')).toBe('#/acme/settings')
    expect(view.getByRole('menuitem', { name: 'New space…' }).getAttribute('href')).toBe('#/spaces')
    await waitFor(() => expect(document.activeElement?.textContent).toContain('Demo shop'))
    await fireEvent.keyDown(menu, { key: 'ArrowDown' })
    expect(document.activeElement?.textContent).toBe('New space…')
    await fireEvent.keyDown(menu, { key: 'Escape' })
    expect(view.queryByRole('menu')).toBeNull()
    expect(document.activeElement).toBe(button)
  })
})

describe('SpacesPage', () => {
  it('explains a refused id, creates a space and opens it, and deletes only once the id is typed', async () => {
    const api = spacesApi()
      .on('POST /api/spaces', ({ body }) =>
        (body as { id: string }).id === 'demo'
          ? { status: 409, body: { error: 'space-exists' } }
          : { status: 201, body: { space: { ...(body as object), role: 'owner', deletingAt: null } } },
      )
      .on('DELETE /api/spaces/demo', { body: { deletingAt: Date.now() + 7 * 86_400_000 } })
    const spaces = new SpacesState({ token, fetch: api.fetch })
    const go = vi.fn()
    const view = render(SpacesPage, { spaces, current: 'demo', go })
    view.getByRole('heading', { name: 'Spaces', level: 1 })
    await view.findByRole('row', { name: /Demo shop/ })

    await fireEvent.input(view.getByLabelText('Space id'), { target: { value: 'demo' } })
    await fireEvent.input(view.getByLabelText('Display name'), { target: { value: 'Again' } })
    await fireEvent.click(view.getByRole('button', { name: 'Create space' }))
    expect((await view.findByRole('alert')).textContent).toBe('A space with this id already exists. Choose another id.')
    expect(view.getByLabelText('Space id').getAttribute('aria-invalid')).toBe('true')

    await fireEvent.input(view.getByLabelText('Space id'), { target: { value: 'myshop' } })
    await fireEvent.click(view.getByRole('button', { name: 'Create space' }))
    await waitFor(() => expect(go).toHaveBeenCalledWith('#/myshop/scenarios'))

    // Acme is being deleted but its user is a viewer there: nothing to restore for them.
    expect(view.queryByRole('button', { name: 'Restore Acme' })).toBeNull()
    await fireEvent.click(view.getByRole('button', { name: 'Delete Demo shop…' }))
    const confirm = view.getByRole('button', { name: 'Delete space' }) as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    await fireEvent.input(view.getByLabelText('Type demo to confirm'), { target: { value: 'demo' } })
    expect(confirm.disabled).toBe(false)
    await fireEvent.click(confirm)
    await view.findByText(/Demo shop is scheduled for deletion on .*can be restored/)
    expect(api.callsTo('DELETE /api/spaces/demo')[0].body).toEqual({ confirm: 'demo' })
  })
})

describe('MembersPage', () => {
  const base = '/api/spaces/demo'
  function membersApi(): FakeApi {
    return new FakeApi()
      .on(`GET ${base}/members`, {
        body: {
          members: [
            { userId: '1', email: 'ana@example.com', name: 'Ana', role: 'owner', lastSeenAt: Date.now() },
            { userId: '2', email: 'ben@example.com', name: 'Ben', role: 'editor', lastSeenAt: null },
          ],
          invites: [{ id: '9', email: 'cy@example.com', role: 'viewer', kind: 'invite', createdAt: 1, expiresAt: Date.now() + 3 * 86_400_000 }],
        },
      })
      .on(`PATCH ${base}/members/1`, { status: 409, body: { error: 'last-owner', message: 'x' } })
      .on(`POST ${base}/invites`, { status: 201, body: { id: 10, url: 'http://localhost/#/invite/abcdefgh123', expiresAt: Date.now() + 7 * 86_400_000, emailed: false } })
      .on(`POST ${base}/members/2/reset`, { status: 201, body: { url: 'http://localhost/#/invite/resetresetreset', expiresAt: Date.now() + 86_400_000, emailed: true } })
  }

  it('owners get role selects, remove, reset links, pending invites and an invite form with a copyable link', async () => {
    const api = membersApi()
    const view = render(MembersPage, { space: 'demo', api: { token, fetch: api.fetch }, role: 'owner', userId: '1', spaceName: 'Demo shop' })
    view.getByRole('heading', { name: 'Members', level: 1 })
    const benRole = (await view.findByLabelText('Role of Ben')) as HTMLSelectElement
    expect(benRole.value).toBe('editor')
    view.getByRole('button', { name: 'Remove Ben' })
    view.getByRole('button', { name: 'Leave this space' })
    expect(view.getByRole('row', { name: /Ben/ }).textContent).toContain('never')
    view.getByRole('button', { name: 'Revoke the link for cy@example.com' })

    // The last owner cannot step down: the select goes back and says why.
    const anaRole = view.getByLabelText('Role of Ana') as HTMLSelectElement
    anaRole.value = 'editor'
    await fireEvent.change(anaRole)
    expect((await view.findByRole('alert')).textContent).toBe('A space needs at least one owner: make someone else an owner first.')
    expect(anaRole.value).toBe('owner')

    await fireEvent.input(view.getByLabelText('Email'), { target: { value: 'dan@example.com' } })
    await fireEvent.change(view.getByLabelText('Role'), { target: { value: 'viewer' } })
    await fireEvent.click(view.getByRole('button', { name: 'Create invite link' }))
    const link = (await view.findByLabelText('Invite link for dan@example.com')) as HTMLInputElement
    expect(link.value).toBe('http://localhost/#/invite/abcdefgh123')
    expect(link.readOnly).toBe(true)
    expect(api.callsTo(`POST ${base}/invites`)[0].body).toEqual({ email: 'dan@example.com', role: 'viewer' })
    view.getByText('Not emailed (the server has no mail set up): send the link yourself.')
    view.getAllByRole('button', { name: 'Copy link' })

    await fireEvent.click(view.getByRole('button', { name: 'Reset password of Ben' }))
    const reset = (await view.findByLabelText('Password reset link for Ben')) as HTMLInputElement
    expect(reset.value).toBe('http://localhost/#/invite/resetresetreset')
  })

  it('others see roles as text, no invites and no controls over other people', async () => {
    const view = render(MembersPage, { space: 'demo', api: { token, fetch: membersApi().fetch }, role: 'editor', userId: '2', spaceName: 'Demo shop' })
    await view.findByRole('row', { name: /Ana/ })
    expect(view.queryByLabelText('Role of Ana')).toBeNull()
    expect(view.queryByRole('button', { name: 'Remove Ana' })).toBeNull()
    expect(view.queryByRole('heading', { name: 'Invite someone' })).toBeNull()
    view.getByRole('button', { name: 'Leave this space' })
  })
})

describe('InvitePage', () => {
  it('a new user sets a name and password, is logged in and taken to the space', async () => {
    const login = { token: 'jwt', expiresAt: Date.now() + 900_000, user: { id: '2', email: 'ben@example.com', name: 'Ben' } }
    const api = new FakeApi()
      .on('GET /api/invites/invitetoken', {
        body: { space: 'demo', spaceName: 'Demo shop', email: 'ben@example.com', role: 'editor', kind: 'invite', existingUser: false, expiresAt: Date.now() + 1000 },
      })
      .on('POST /api/invites/invitetoken/accept', { body: login })
    const auth = new AuthState({ storage: null, autoRefresh: false })
    const go = vi.fn()
    const view = render(InvitePage, { token: 'invitetoken', auth, go, fetch: api.fetch })
    await view.findByRole('heading', { name: 'Join Demo shop', level: 1 })
    await fireEvent.input(view.getByLabelText('Your name'), { target: { value: 'Ben' } })
    await fireEvent.input(view.getByLabelText('Password'), { target: { value: 'short' } })
    await fireEvent.click(view.getByRole('button', { name: 'Create account and join' }))
    expect((await view.findByRole('alert')).textContent).toBe('A password needs at least 8 characters.')
    await fireEvent.input(view.getByLabelText('Password'), { target: { value: 'longenough' } })
    await fireEvent.input(view.getByLabelText('Confirm password'), { target: { value: 'longenough' } })
    await fireEvent.click(view.getByRole('button', { name: 'Create account and join' }))
    await waitFor(() => expect(go).toHaveBeenCalledWith('#/demo/scenarios'))
    expect(auth.user?.name).toBe('Ben')
  })

  it('an existing user joins and then logs in; a used link says so', async () => {
    const api = new FakeApi()
      .on('GET /api/invites/joinjoin', {
        body: { space: 'demo', spaceName: 'Demo shop', email: 'ana@example.com', role: 'viewer', kind: 'invite', existingUser: true, expiresAt: Date.now() + 1000 },
      })
      .on('POST /api/invites/joinjoin/accept', { body: { joined: 'demo' } })
      .on('GET /api/invites/usedused', { status: 410, body: { error: 'invite-used', message: 'used' } })
    const auth = new AuthState({ storage: null, autoRefresh: false, fetch: api.fetch })
    const view = render(InvitePage, { token: 'joinjoin', auth, go: vi.fn(), fetch: api.fetch })
    await fireEvent.click(await view.findByRole('button', { name: 'Join Demo shop' }))
    await view.findByRole('heading', { name: 'You joined Demo shop' })
    expect((view.getByLabelText('Email') as HTMLInputElement).value).toBe('ana@example.com')
    view.getByLabelText('Password')
    view.getByRole('button', { name: 'Log in' })
    view.unmount()

    const used = render(InvitePage, { token: 'usedused', auth, go: vi.fn(), fetch: api.fetch })
    await used.findByRole('heading', { name: 'This link was already used' })
  })
})

describe('BotSettings', () => {
  it('owners save a token (password input, Telegram’s refusal as text) and then see only the @username', async () => {
    let configured: unknown = { configured: false }
    const api = new FakeApi()
      .on('GET /api/spaces/demo/bot', () => ({ body: configured }))
      .on('PUT /api/spaces/demo/bot', ({ body }) => {
        if ((body as { token: string }).token === 'bad') return { status: 400, body: { error: 'telegram-refused', message: 'Unauthorized' } }
        configured = { configured: true, username: 'demo_bot', status: 'connected' }
        return { body: { username: 'demo_bot' } }
      })
    const bot = new BotState('demo', { token, fetch: api.fetch })
    await bot.refresh()
    const view = render(BotSettings, { bot, isOwner: true })
    view.getByRole('heading', { name: 'Telegram bot' })
    const input = view.getByLabelText('Bot token') as HTMLInputElement
    expect(input.type).toBe('password')
    await fireEvent.input(input, { target: { value: 'bad' } })
    await fireEvent.click(view.getByRole('button', { name: 'Save token' }))
    expect((await view.findByRole('alert')).textContent).toBe('Telegram refused the token: Unauthorized')
    await fireEvent.input(input, { target: { value: '123:abc' } })
    await fireEvent.click(view.getByRole('button', { name: 'Save token' }))
    await view.findByText('@demo_bot')
    expect((view.getByLabelText('New bot token') as HTMLInputElement).value).toBe('')
    view.getByRole('button', { name: 'Remove bot' })
  })

  it('others see the @username and no token field', async () => {
    const api = new FakeApi().on('GET /api/spaces/demo/bot', { body: { configured: true, username: 'demo_bot', status: 'connected' } })
    const bot = new BotState('demo', { token, fetch: api.fetch })
    await bot.refresh()
    const view = render(BotSettings, { bot, isOwner: false })
    view.getByText('@demo_bot')
    expect(view.queryByLabelText(/bot token/i)).toBeNull()
  })
})

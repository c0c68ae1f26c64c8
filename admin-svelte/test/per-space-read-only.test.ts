import { afterEach, describe, expect, it } from 'vitest'
import { CollabSession } from '../src/lib/connection/collab-session.svelte.ts'
import { SpacesState } from '../src/lib/spaces/spaces-state.svelte.ts'
import { closedPort, NodeWebSocket } from './closed-port.ts'
import { FakeApi } from './fake-api.ts'

describe('read-only per space', () => {
  let session: CollabSession | null = null
  afterEach(() => session?.destroy())

  it('a document opens read-only by the user’s role in its own space, following the list as it arrives', async () => {
    let spaces = [
      { id: 'shop', name: 'Shop', role: 'viewer', deletingAt: null },
      { id: 'demo', name: 'Demo', role: 'editor', deletingAt: null },
    ]
    const api = new FakeApi().on('GET /api/spaces', () => ({ body: { spaces } }))
    const list = new SpacesState({ token: () => 't', fetch: api.fetch, storage: null })
    session = new CollabSession({
      url: `ws://127.0.0.1:${await closedPort()}/collab`,
      token: 't',
      user: { id: 'u1', name: 'Ana', color: '#111' },
      readOnly: (name) => list.readOnlyIn(name.split('/')[0]),
      persistence: false,
      webSocket: NodeWebSocket,
    })
    const demo = session.open('demo/settings')
    const shop = session.open('shop/settings')
    // Nothing known yet, the server has not answered either: read-only.
    expect([demo.readOnly, shop.readOnly]).toEqual([true, true])
    await list.refresh()
    expect([demo.readOnly, shop.readOnly]).toEqual([false, true])
    // The server-written activity document stays read-only for an editor.
    expect(session.open('demo/activity').readOnly).toBe(true)
    spaces = [{ ...spaces[0], role: 'owner' }, spaces[1]]
    await list.refresh()
    expect(shop.readOnly).toBe(false)
  })
})

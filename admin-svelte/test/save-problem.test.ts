import { render } from '@testing-library/svelte'
import { flushSync } from 'svelte'
import { afterEach, describe, expect, it } from 'vitest'
import { refusalMessage } from '@botsync/shared-docs'
import { CollabSession } from '../src/lib/connection/collab-session.svelte.ts'
import { closedPort, NodeWebSocket } from './closed-port.ts'
import ConnectionIndicator from '../src/lib/connection/connection-indicator.svelte'

describe('a refused change near the save status', () => {
  let session: CollabSession | null = null
  afterEach(() => session?.destroy())

  it('says why the server refused it, in words, for each reason', async () => {
    const refused: string[] = []
    session = new CollabSession({
      url: `ws://127.0.0.1:${await closedPort()}/collab`,
      token: 'unused',
      user: { id: 'u1', name: 'Ana', color: '#111' },
      readOnly: false,
      persistence: false,
      webSocket: NodeWebSocket,
      onRefused: (_name, reason) => refused.push(reason),
    })
    const handle = session.open('space1/settings')
    const view = render(ConnectionIndicator, { session })
    expect(view.queryByTestId('save-problem')).toBeNull()

    handle.receiveStateless(refusalMessage('document-too-large', 'the document would grow past 4000 bytes'))
    flushSync()
    const problem = view.getByTestId('save-problem')
    expect(problem.dataset.reason).toBe('document-too-large')
    expect(problem.textContent).toMatch(/size limit.*not saved/)
    expect(refused).toEqual(['document-too-large'])

    handle.receiveStateless(refusalMessage('invalid-update', 'the update cannot be integrated'))
    flushSync()
    expect(view.getByTestId('save-problem').textContent).toMatch(/could not apply your change/)

    handle.receiveStateless(JSON.stringify({ type: 'something-else' }))
    flushSync()
    expect(view.getByTestId('save-problem').dataset.reason).toBe('invalid-update')
  })
})

import { fireEvent, render } from '@testing-library/svelte'
import { afterEach, describe, expect, it } from 'vitest'
import { CollabSession } from '../src/lib/connection/collab-session.svelte.ts'
import { closedPort, NodeWebSocket } from './closed-port.ts'
import ConnectionIndicator from '../src/lib/connection/connection-indicator.svelte'

describe('ConnectionIndicator', () => {
  let session: CollabSession | null = null
  afterEach(() => session?.destroy())

  it('never claims "saved" without a connection, and follows the browser going offline and online', async () => {
    session = new CollabSession({
      url: `ws://127.0.0.1:${await closedPort()}/collab`,
      token: 'unused',
      user: { id: 'u1', name: 'Ana', color: '#111' },
      readOnly: false,
      persistence: false,
      webSocket: NodeWebSocket,
    })
    const view = render(ConnectionIndicator, { session })
    const status = () => view.getByTestId('connection-status').textContent
    const saved = () => view.getByTestId('save-status').textContent
    expect(status()).toBe('Connecting…')
    expect(saved()).toBe('Working offline')

    await fireEvent(window, new Event('offline'))
    expect(status()).toBe('Offline')
    expect(session.status).toBe('offline')
    await fireEvent(window, new Event('online'))
    expect(status()).not.toBe('Offline')
    expect(saved()).not.toBe('All changes saved')
  })
})

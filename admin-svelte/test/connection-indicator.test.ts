import { fireEvent, render } from '@testing-library/svelte'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { CollabSession } from '../src/lib/connection/collab-session.svelte.ts'
import ConnectionIndicator from '../src/lib/connection/connection-indicator.svelte'

/** A local port with nothing listening on it: connecting fails at once. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// jsdom's WebSocket (and `ws` resolved for the browser) cannot connect from
// this test environment; Node's resolution gives the real `ws` client.
const NodeWebSocket = createRequire(import.meta.url)('ws')

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

import { render } from '@testing-library/svelte'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { flushSync } from 'svelte'
import { afterEach, describe, expect, it } from 'vitest'
import { refusalMessage } from '@botsync/shared-docs'
import { CollabSession } from '../src/lib/connection/collab-session.svelte.ts'
import ConnectionIndicator from '../src/lib/connection/connection-indicator.svelte'

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const NodeWebSocket = createRequire(import.meta.url)('ws')

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

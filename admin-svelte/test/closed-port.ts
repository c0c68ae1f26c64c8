import { createRequire } from 'node:module'
import { createServer } from 'node:net'

/** A local port with nothing listening on it: connecting fails at once. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

// jsdom's WebSocket (and `ws` resolved for the browser) cannot connect from
// this test environment; Node's resolution gives the real `ws` client.
export const NodeWebSocket = createRequire(import.meta.url)('ws')

import type { IncomingMessage } from 'node:http'

/**
 * The address a request comes from, as login limits count it. The peer of
 * the TCP connection for now; behind a reverse proxy every client would share
 * the proxy's address, so this is the one place to swap in X-Forwarded-For
 * handling (TRUST_PROXY) when it lands.
 */
export function clientAddress(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown'
}

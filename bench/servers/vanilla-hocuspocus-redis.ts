// Baseline for bench/suites/fanout.ts (durability and readers use vanilla-hocuspocus.ts, which also stores): Hocuspocus exactly as its docs set it
// up, in memory, no auth and no persistence; with REDIS_URL also the official
// @hocuspocus/extension-redis (REDIS_PREFIX namespaces its channels).
// Prints {"event":"listening","port":N} once it accepts connections.
import { Redis } from '@hocuspocus/extension-redis'
import { Server } from '@hocuspocus/server'

const extensions = []
if (process.env.REDIS_URL) {
  const url = new URL(process.env.REDIS_URL)
  extensions.push(new Redis({ host: url.hostname, port: Number(url.port || 6379), prefix: process.env.REDIS_PREFIX ?? 'hocuspocus' }))
}
const server = new Server({ port: 0, address: '127.0.0.1', quiet: true, stopOnSignals: true, extensions })
await server.listen()
process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address.port })}\n`)

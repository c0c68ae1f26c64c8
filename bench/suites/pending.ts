// Unauthenticated sockets on /collab: what an attacker without a token can
// make one instance hold. Each of SOCKETS raw WebSockets opens /collab and,
// without ever authenticating, sends FRAMES frames of just under
// MAX_MESSAGE_BYTES (1 MiB): document messages that Hocuspocus would queue
// until authentication (up to its 5 MiB default, for 60-120 s). The figure
// is the server process's VmRSS growth (/proc/<pid>/status, settled) from
// before the sockets opened until every socket has sent everything or been
// closed, per socket, at 30 and 300 sockets; each run on a fresh server.
// With PENDING_MAX_BYTES (64 KiB) a socket is closed once it has sent more
// than that before authenticating, so what it can park is bounded by that
// and by MAX_PENDING_CONNECTIONS sockets. `underBudget300` is the other
// attack: 300 sockets that each send just under the budget (one 60 KiB
// frame) and stay, measured while they are all still open (AUTH_TIMEOUT_MS
// raised to 60 s for it): what an instance holds per parked socket.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { botsyncEnv } from '../lib/botsync-env.ts'
import { settledRss } from '../lib/process-memory.ts'
import { ScratchSchema } from '../lib/scratch-schema.ts'
import { onInterrupt } from '../lib/interrupt-cleanup.ts'
import { frame, MessageType } from '@botsync/testkit/raw-client'
import { ServerProcess } from '@botsync/testkit/server-process'

const COUNTS = [30, 300]
const FRAMES = 5
const FRAME_BYTES = 1024 * 1024 - 256
const WARM_UP_SOCKETS = 10
const UNDER_BUDGET_SOCKETS = 300
const UNDER_BUDGET_FRAME_BYTES = 60 * 1024
/** Per unauthenticated socket: its 64 KiB queue bound plus generous room for a socket's own bookkeeping. */
const TARGET_RSS_PER_SOCKET_BYTES = 256 * 1024
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export default async function run(): Promise<Record<string, unknown>> {
  const schema = await ScratchSchema.create(DATABASE_URL)
  try {
    const results: Record<string, unknown> = {}
    const met: Record<string, boolean> = {}
    for (const count of COUNTS) {
      const result = await measure(schema.url, count, FRAMES, FRAME_BYTES)
      results[`sockets${count}`] = result
      // At 30 sockets a few MB that do not grow with sockets (V8's young
      // generation, malloc arenas) dominate the quotient: reported only.
      if (count >= 300) met[`rssPerSocket${count}`] = result.rssGrowthPerSocketBytes <= TARGET_RSS_PER_SOCKET_BYTES
    }
    const under = await measure(schema.url, UNDER_BUDGET_SOCKETS, 1, UNDER_BUDGET_FRAME_BYTES, { AUTH_TIMEOUT_MS: '60000' })
    results[`underBudget${UNDER_BUDGET_SOCKETS}`] = under
    met[`rssPerSocketUnderBudget${UNDER_BUDGET_SOCKETS}`] = under.rssGrowthPerSocketBytes <= TARGET_RSS_PER_SOCKET_BYTES
    return { framesPerSocket: FRAMES, frameBytes: FRAME_BYTES, ...results, targets: { rssPerSocketBytes: TARGET_RSS_PER_SOCKET_BYTES }, met }
  } finally {
    await schema.drop()
  }
}

async function measure(databaseUrl: string, count: number, frames: number, frameBytes: number, extraEnv: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-pending-'))
  const { env } = botsyncEnv({ databaseUrl, dataDir })
  // The limits under test at their defaults (botsyncEnv lifts only the per-address one: all sockets come from 127.0.0.1).
  const server = await ServerProcess.spawn({ label: 'botsync', env: { ...env, ...extraEnv }, keepLines: 200, registerKill: onInterrupt })
  try {
    const pid = server.child.pid!
    const frame = junkFrame('bench/settings', frameBytes)
    // A few sockets first, so that one-time costs (code compiled for these
    // paths, buffers pools) are paid before the baseline, not per socket.
    const warmUp = await Promise.all(Array.from({ length: WARM_UP_SOCKETS }, () => floodingSocket(`ws://127.0.0.1:${server.port}/collab`, frame, frames, new Map())))
    await drained(warmUp)
    for (const ws of warmUp) ws.terminate()
    const before = await settledRss(pid, 15_000)
    const closes = new Map<string, number>()
    const sockets = await Promise.all(Array.from({ length: count }, () => floodingSocket(`ws://127.0.0.1:${server.port}/collab`, frame, frames, closes)))
    await drained(sockets)
    const after = await settledRss(pid, 15_000)
    const stillOpen = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length
    for (const ws of sockets) ws.terminate()
    return {
      sockets: count,
      frames,
      frameBytes,
      rssBeforeBytes: before,
      rssAfterBytes: after,
      rssGrowthBytes: after - before,
      rssGrowthPerSocketBytes: Math.round((after - before) / count),
      stillOpen,
      closedBy: Object.fromEntries(closes),
    }
  } finally {
    await server.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Until every socket has either handed all its bytes to the kernel or been closed. */
async function drained(sockets: WebSocket[]): Promise<void> {
  const deadline = Date.now() + 30_000
  while (sockets.some((ws) => ws.readyState === WebSocket.OPEN && ws.bufferedAmount > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function floodingSocket(url: string, frame: Buffer, frames: number, closes: Map<string, number>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.on('open', () => {
      for (let i = 0; i < frames; i++) ws.send(frame)
      resolve(ws)
    })
    ws.on('close', (code, reason) => {
      const key = `${code} ${reason.toString()}`.trim()
      closes.set(key, (closes.get(key) ?? 0) + 1)
    })
    ws.on('error', (error) => (ws.readyState === WebSocket.CONNECTING ? reject(error) : undefined))
  })
}

/** A Sync frame for `document` padded to `bytes`: Hocuspocus queues it unread until the socket authenticates. */
function junkFrame(document: string, bytes: number): Buffer {
  const padded = Buffer.alloc(bytes, 7)
  padded.set(frame(document, MessageType.Sync), 0)
  return padded
}

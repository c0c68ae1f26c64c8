// Static files while logins run. scrypt takes one of libuv's threads (4 by
// default) for each password it checks, and the same threads read the admin's
// files (stat + read streams) for `GET /`. This suite measures `GET /` and a
// 256 KB asset during 40 logins in parallel (each client logs in again as
// soon as it is answered), against three servers that differ only in
// PASSWORD_HASH_CONCURRENCY: unbounded (what botsync did before: every login
// is an scrypt job on the pool at once), 2 (the default) and 1. The servers
// are measured in alternating slices so that load from other processes on
// the machine hits them alike.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { botsyncEnv } from '../lib/botsync-env.ts'
import { latencySummary } from '../lib/percentiles.ts'
import { onInterrupt } from '../lib/interrupt-cleanup.ts'
import { ServerProcess } from '@botsync/testkit/server-process'

const PARALLEL_LOGINS = Number(process.env.BENCH_LOGINS_PARALLEL ?? 40)
const SLICE_MS = 2_000
const ROUNDS = Number(process.env.BENCH_LOGINS_ROUNDS ?? 3)
const PROBE_GAP_MS = 10
const TARGET_P50_MS = 10
const TARGET_P99_MS = 100
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const VARIANTS = [
  { label: 'unbounded', concurrency: '100000' },
  { label: 'concurrency2', concurrency: '2' },
  { label: 'concurrency1', concurrency: '1' },
] as const

export default async function run(): Promise<Record<string, unknown>> {
  const adminDir = mkdtempSync(join(tmpdir(), 'botsync-bench-admin-'))
  mkdirSync(join(adminDir, 'assets'))
  writeFileSync(join(adminDir, 'index.html'), '<!doctype html><title>botsync</title><script src="/assets/app.js"></script>')
  writeFileSync(join(adminDir, 'assets', 'app.js'), randomBytes(128 * 1024).toString('hex'))
  const servers: Array<{ label: string; server: ServerProcess; email: string; password: string; dataDir: string }> = []
  try {
    for (const variant of VARIANTS) {
      const dataDir = mkdtempSync(join(tmpdir(), 'botsync-bench-logins-'))
      const { env, admin } = botsyncEnv({ databaseUrl: DATABASE_URL, dataDir })
      const server = await ServerProcess.spawn({
        label: `botsync ${variant.label}`,
        env: { ...env, ADMIN_DIR: adminDir, PASSWORD_HASH_CONCURRENCY: variant.concurrency, LOG_LEVEL: 'info' },
        keepLines: 200,
        registerKill: onInterrupt,
      })
      servers.push({ label: variant.label, server, email: admin.email, password: admin.password, dataDir })
    }

    const idle: Record<string, number[]> = {}
    const busy: Record<string, { index: number[]; asset: number[]; logins: number[]; loginCount: number; ms: number }> = {}
    for (const { label } of servers) {
      idle[label] = []
      busy[label] = { index: [], asset: [], logins: [], loginCount: 0, ms: 0 }
    }
    // Warm-up and idle figures: files and the server's code paths hot.
    for (const s of servers) idle[s.label] = (await probe(s.server.url, 1_000)).index

    for (let round = 0; round < ROUNDS; round += 1) {
      for (const s of servers) {
        process.stderr.write(`[bench] logins: round ${round + 1}/${ROUNDS}, ${s.label}\n`)
        const started = performance.now()
        const stop = { done: false }
        const loginLatencies: number[] = []
        const loops = Array.from({ length: PARALLEL_LOGINS }, () => loginLoop(s.server.url, s.email, s.password, stop, loginLatencies))
        // Let the login flood build up before probing.
        await sleep(200)
        const probed = await probe(s.server.url, SLICE_MS)
        stop.done = true
        await Promise.all(loops)
        busy[s.label].index.push(...probed.index)
        busy[s.label].asset.push(...probed.asset)
        busy[s.label].logins.push(...loginLatencies)
        busy[s.label].loginCount += loginLatencies.length
        busy[s.label].ms += performance.now() - started
        // Let the queue drain so the next server starts from rest.
        await sleep(300)
      }
    }

    const result: Record<string, unknown> = { parallelLogins: PARALLEL_LOGINS, sliceMs: SLICE_MS, rounds: ROUNDS, loadAverage: loadavg().map((v) => Math.round(v * 100) / 100) }
    for (const { label } of servers) {
      const b = busy[label]
      result[label] = {
        idleIndexMs: latencySummary(idle[label]),
        indexMs: latencySummary(b.index),
        assetMs: latencySummary(b.asset),
        loginMs: latencySummary(b.logins),
        loginsPerSecond: Math.round((b.loginCount / b.ms) * 1000 * 10) / 10,
      }
    }
    const defaults = latencySummary(busy.concurrency2.index)
    const unbounded = busy.unbounded.loginCount / busy.unbounded.ms
    const bounded = busy.concurrency2.loginCount / busy.concurrency2.ms
    result.targets = {
      indexP50DuringLoginsMs: { target: `≤ ${TARGET_P50_MS} ms with the default PASSWORD_HASH_CONCURRENCY (2)`, value: defaults.p50, met: defaults.p50 <= TARGET_P50_MS },
      indexP99DuringLoginsMs: { target: `≤ ${TARGET_P99_MS} ms with the default PASSWORD_HASH_CONCURRENCY (2)`, value: defaults.p99, met: defaults.p99 <= TARGET_P99_MS },
      loginThroughputVsUnbounded: { target: '≥ 0.8× unbounded', value: Math.round((bounded / unbounded) * 100) / 100, met: bounded >= 0.8 * unbounded },
    }
    return result
  } finally {
    await Promise.all(servers.map((s) => s.server.stop()))
    for (const s of servers) rmSync(s.dataDir, { recursive: true, force: true })
    rmSync(adminDir, { recursive: true, force: true })
  }
}

async function loginLoop(base: string, email: string, password: string, stop: { done: boolean }, latencies: number[]): Promise<void> {
  while (!stop.done) {
    const started = performance.now()
    const response = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    })
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`login failed: ${response.status}`)
    latencies.push(performance.now() - started)
  }
}

/** `GET /` and `GET /assets/app.js` one after another, sequentially, for `ms`. */
async function probe(base: string, ms: number): Promise<{ index: number[]; asset: number[] }> {
  const index: number[] = []
  const asset: number[] = []
  const deadline = performance.now() + ms
  while (performance.now() < deadline) {
    for (const [path, into] of [
      ['/', index],
      ['/assets/app.js', asset],
    ] as const) {
      const started = performance.now()
      const response = await fetch(`${base}${path}`)
      await response.arrayBuffer()
      if (!response.ok) throw new Error(`GET ${path}: ${response.status}`)
      into.push(performance.now() - started)
    }
    await sleep(PROBE_GAP_MS)
  }
  return { index, asset }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

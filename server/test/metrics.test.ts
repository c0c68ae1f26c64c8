// GET /metrics: Prometheus text that a parser accepts, counters that move
// with real traffic (an edit; a bot answer through the fake Bot API), and the
// two ways it is protected (METRICS_TOKEN, METRICS_PORT).
import { demoSeed } from '@botsync/shared-docs'
import type { BotHandle } from '@botsync/bot'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { connect, startServer, synced, uniqueSpace, userToken, waitFor, wsUrlOf } from '@botsync/testkit/server'
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format'
import { afterEach, describe, expect, it } from 'vitest'
import type { BotsyncServer } from '../src/botsync-server.ts'
import { SHARED_REDIS_URL, uniquePrefix } from './redis-helpers.ts'
import { startEmbeddedBot } from '../src/embedded-bot.ts'

const TELEGRAM_TOKEN = '123456:METRICS-token_abc'
const METRICS_TOKEN = 'metrics-secret-' + Math.random().toString(36).slice(2)

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!()
})

async function start(overrides: Record<string, string>): Promise<BotsyncServer> {
  const server = await startServer(overrides)
  cleanup.push(() => server.stop())
  return server
}

async function scrape(port: number, token: string | undefined = METRICS_TOKEN): Promise<Map<string, ParsedFamily>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  const families = parsePrometheusTextFormat(await response.text())
  return new Map(families.map((family) => [family.name, family]))
}

/** The value of one sample (the one with these labels), as a number; a histogram's count. */
function value(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name)
  if (!family) throw new Error(`no metric ${name}`)
  const sample = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  if (!sample) return 0
  return Number(family.type === 'HISTOGRAM' ? sample.count : sample.value)
}

describe('/metrics', () => {
  it('parses as Prometheus text; appends, their latency, batches and the bot counters move with one edit and one answer', async () => {
    const api = new FakeBotApi({ token: TELEGRAM_TOKEN })
    await api.start()
    cleanup.push(() => api.stop())
    const space = uniqueSpace()
    const server = await start({ METRICS_TOKEN, BOT_SPACE: space, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot })
    for (const [name, update] of demoSeed(space)) await server.store.append(name, update)

    const before = await scrape(server.port)
    for (const name of ['botsync_appends_total', 'botsync_fanout_published_total', 'botsync_quarantined_updates_total', 'botsync_bot_updates_handled_total']) {
      expect(before.get(name)?.type, name).toBe('COUNTER')
    }
    expect(before.get('botsync_append_duration_seconds')?.type).toBe('HISTOGRAM')
    expect(before.get('botsync_group_commit_batch_size')?.type).toBe('HISTOGRAM')
    expect(before.get('botsync_documents_loaded')?.type).toBe('GAUGE')
    // Node's default metrics, from this server's own registry.
    expect(before.has('process_cpu_user_seconds_total')).toBe(true)
    expect(before.has('nodejs_eventloop_lag_seconds')).toBe(true)
    expect(value(before, 'botsync_refused_updates_total', { reason: 'read-only' })).toBe(0)
    expect(before.has('botsync_redis_up')).toBe(false)

    const editor = connect(wsUrlOf(server), `${space}/settings`, await userToken(server, 'editor', space))
    cleanup.push(async () => editor.destroy())
    await synced(editor)
    editor.doc.getMap('settings').set('metrics', 'one edit')
    await synced(editor)

    const bot: BotHandle | undefined = await startEmbeddedBot(server)
    cleanup.push(() => bot!.stop())
    const user = { id: 7001, first_name: 'Mira' }
    // The first answer is refused once with 429: retried after retry_after, and both calls are counted.
    api.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } })
    const since = api.mark()
    api.sendCommand(user, 'start')
    await api.nextMessageTo(user.id, { since, timeoutMs: 10_000 })

    // The answer is sent inside the update's handling; its count follows once the handler returns.
    let after = await scrape(server.port)
    await waitFor(async () => value((after = await scrape(server.port)), 'botsync_bot_updates_handled_total') >= 1, 'the update to be counted')
    expect(value(after, 'botsync_appends_total')).toBeGreaterThan(value(before, 'botsync_appends_total'))
    expect(value(after, 'botsync_append_duration_seconds')).toBeGreaterThan(value(before, 'botsync_append_duration_seconds'))
    expect(value(after, 'botsync_group_commit_batch_size')).toBeGreaterThan(value(before, 'botsync_group_commit_batch_size'))
    expect(value(after, 'botsync_connections', { endpoint: 'collab', role: 'editor' })).toBeGreaterThanOrEqual(1)
    expect(value(after, 'botsync_connections', { endpoint: 'collab', role: 'bot' })).toBeGreaterThanOrEqual(1)
    expect(value(after, 'botsync_documents_loaded')).toBeGreaterThanOrEqual(1)
    expect(value(after, 'botsync_bot_updates_handled_total')).toBe(1)
    expect(value(after, 'botsync_bot_update_duration_seconds')).toBe(1)
    expect(value(after, 'botsync_bot_telegram_calls_total', { method: 'sendMessage', status: '200' })).toBeGreaterThanOrEqual(1)
    expect(value(after, 'botsync_bot_telegram_calls_total', { method: 'sendMessage', status: '429' })).toBe(1)
    expect(value(after, 'botsync_bot_telegram_rate_limited_total')).toBe(1)
  })

  it('with REDIS_URL: botsync_redis_up is 1 and an edit is counted as published on one instance, received on the other', async () => {
    const prefix = uniquePrefix()
    const a = await start({ METRICS_PORT: '0', REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, INSTANCE_ID: `${prefix}-a` })
    const b = await start({ METRICS_PORT: '0', REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, INSTANCE_ID: `${prefix}-b` })
    const space = uniqueSpace()
    const name = `${space}/settings`
    const token = await userToken(a, 'editor', space)
    const onB = connect(wsUrlOf(b), name, token)
    cleanup.push(async () => onB.destroy())
    await synced(onB)
    const onA = connect(wsUrlOf(a), name, token)
    cleanup.push(async () => onA.destroy())
    await synced(onA)
    onA.doc.getMap('settings').set('fanout', 'counted')
    await waitFor(() => onB.doc.getMap('settings').get('fanout') === 'counted', 'the edit to reach the other instance')
    const [fromA, fromB] = [await scrape(a.metricsPort!, undefined), await scrape(b.metricsPort!, undefined)]
    expect(value(fromA, 'botsync_redis_up')).toBe(1)
    expect(value(fromB, 'botsync_redis_up')).toBe(1)
    expect(value(fromA, 'botsync_fanout_published_total')).toBeGreaterThanOrEqual(1)
    expect(value(fromB, 'botsync_fanout_received_total')).toBeGreaterThanOrEqual(1)
    expect(value(fromA, 'botsync_fanout_dropped_total')).toBe(0)
  })

  it('METRICS_TOKEN: 401 without the token or with a wrong one, 200 with it', async () => {
    const server = await start({ METRICS_TOKEN })
    const url = `http://127.0.0.1:${server.port}/metrics`
    const missing = await fetch(url)
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect((await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401)
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    expect((await fetch(url, { headers: { authorization: `Basic ${METRICS_TOKEN}` } })).status).toBe(401)
    expect(value(await scrape(server.port), 'botsync_appends_total')).toBeGreaterThanOrEqual(0)
    // /health is unchanged and needs no token.
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200)
  })

  it('METRICS_PORT: served there (without a token), 404 on the main port; that port serves nothing else', async () => {
    const server = await start({ METRICS_PORT: '0' })
    const port = server.metricsPort!
    expect(port).toBeGreaterThan(0)
    expect(port).not.toBe(server.port)
    expect((await scrape(port, undefined)).has('botsync_appends_total')).toBe(true)
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(404)
  })

  it('neither variable: /metrics is not served (404), /health still is', async () => {
    const server = await start({})
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200)
  })

  it('several servers in one process each have their own registry', async () => {
    const first = await start({ METRICS_PORT: '0' })
    const second = await start({ METRICS_PORT: '0' })
    expect(first.prometheus.registry).not.toBe(second.prometheus.registry)
    expect((await scrape(second.metricsPort!, undefined)).has('process_cpu_user_seconds_total')).toBe(true)
  })
})

import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Hocuspocus } from '@hocuspocus/server'
import type { DocumentStore } from '@botsync/persistence'
import type { BotObserver } from '@botsync/bot'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ConnectionContext } from './types.ts'
import type { Metrics } from './metrics.ts'
import type { ReaderGateway } from './readers/reader-gateway.ts'
import type { RedisLink } from './redis/redis-link.ts'

export const METRICS_PATH = '/metrics'

export interface PrometheusDeps {
  metrics: Metrics
  hocuspocus: () => Hocuspocus
  readers: ReaderGateway
  store: DocumentStore
  /** Null without REDIS_URL: no botsync_redis_up then. */
  redis: RedisLink | null
}

/**
 * The Prometheus side of the in-process figures. One Registry per server
 * (tests run several servers in one process; the global one would mix
 * them). Counters that Metrics, the store or the gateways already keep are
 * read at scrape time (collect), not counted twice; only what has no
 * running state elsewhere (latency and batch-size histograms, the bot's
 * Telegram calls) is observed as it happens.
 */
export class PrometheusMetrics {
  readonly registry = new Registry()
  private readonly appendSeconds: Histogram
  private readonly batchSize: Histogram
  private readonly updatesHandled: Counter
  private readonly updateSeconds: Histogram
  private readonly telegramCalls: Counter<'method' | 'status'>
  private readonly telegramRateLimited: Counter

  constructor(deps: PrometheusDeps) {
    const registers = [this.registry]
    const { metrics } = deps
    collectDefaultMetrics({ register: this.registry })

    /** A counter whose value is read from existing state when scraped. */
    const mirrored = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset()
          this.inc(read())
        },
      })
    const labelled = <L extends string>(name: string, help: string, label: L, read: () => Record<string, number>) =>
      new Counter<L>({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset()
          for (const [value, count] of Object.entries(read())) this.inc({ [label]: value } as Record<L, string>, count)
        },
      })

    new Gauge<'endpoint' | 'role'>({
      name: 'botsync_connections',
      help: 'Open connections by endpoint (collab: Hocuspocus document connections; readers: Mini App sockets) and role',
      labelNames: ['endpoint', 'role'],
      registers,
      collect() {
        this.reset()
        const roles = new Map<string, number>()
        for (const document of deps.hocuspocus().documents.values()) {
          for (const connection of document.getConnections()) {
            const role = (connection.context as ConnectionContext | undefined)?.role ?? 'unknown'
            roles.set(role, (roles.get(role) ?? 0) + 1)
          }
        }
        for (const [role, count] of roles) this.set({ endpoint: 'collab', role }, count)
        this.set({ endpoint: 'readers', role: 'reader' }, deps.readers.readers)
      },
    })
    new Gauge({
      name: 'botsync_documents_loaded',
      help: 'Documents loaded in this instance',
      registers,
      collect() {
        this.set(deps.hocuspocus().getDocumentsCount())
      },
    })

    mirrored('botsync_appends_total', 'Updates appended (committed) to the update log', () => metrics.appends)
    mirrored('botsync_appended_bytes_total', 'Bytes of updates appended to the update log', () => metrics.appendedBytes)
    this.appendSeconds = new Histogram({
      name: 'botsync_append_duration_seconds',
      help: 'Time from receiving an update to its commit in the update log',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    })
    metrics.onAppend = (ms) => this.appendSeconds.observe(ms / 1000)
    const readerBroadcastSeconds = new Histogram({
      name: 'botsync_reader_broadcast_duration_seconds',
      help: "Time to hand one update to every reader of a public document on this instance (the loop of socket writes; the readers' receiving is not in it)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    })
    metrics.onReaderBroadcast = (ms) => readerBroadcastSeconds.observe(ms / 1000)
    this.batchSize = new Histogram({
      name: 'botsync_group_commit_batch_size',
      help: 'Appends per group-commit batch (one INSERT, one transaction)',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    })

    mirrored('botsync_fanout_published_total', 'Redis fan-out messages published', () => metrics.fanout.published)
    mirrored('botsync_fanout_received_total', 'Redis fan-out messages received from other instances', () => metrics.fanout.received)
    mirrored('botsync_fanout_dropped_total', 'Redis fan-out messages dropped while Redis was down', () => metrics.fanout.dropped)
    mirrored('botsync_fanout_sync_requests_total', 'State-vector exchanges started with other instances', () => metrics.fanout.syncRequests)
    if (deps.redis) {
      const redis = deps.redis
      new Gauge({
        name: 'botsync_redis_up',
        help: '1 while the Redis connection is up, 0 while it is down (only with REDIS_URL)',
        registers,
        collect() {
          this.set(redis.health().status === 'ok' ? 1 : 0)
        },
      })
    }

    new Gauge({
      name: 'botsync_readers_open',
      help: 'Open Mini App reader sockets',
      registers,
      collect() {
        this.set(deps.readers.readers)
      },
    })
    mirrored('botsync_readers_connected_total', 'Mini App reader sockets opened', () => metrics.readers.connected)
    mirrored('botsync_readers_disconnected_total', 'Mini App reader sockets closed', () => metrics.readers.disconnected)
    mirrored('botsync_readers_refused_total', 'Mini App reader authentications refused', () => metrics.readers.refused)
    mirrored('botsync_readers_refused_frames_total', 'Mini App reader frames refused', () => metrics.readers.refusedFrames)

    labelled('botsync_refused_updates_total', 'Client updates refused (not stored, not applied) by reason', 'reason', () => ({ ...metrics.refusedUpdates }))
    mirrored('botsync_rate_limit_closures_total', 'Sockets closed (1008 rate-limited) for sending updates while refused for their rate', () => metrics.rateLimitClosures)
    labelled('botsync_connections_refused_total', 'Sockets refused or closed before authenticating, by reason', 'reason', () => ({
      'per-address': metrics.connections.refusedPerAddress,
      pending: metrics.connections.refusedPending,
      'authentication-timeout': metrics.connections.authenticationTimeouts,
      'too-many-bytes': metrics.connections.tooManyBytes,
    }))
    mirrored('botsync_quarantined_updates_total', 'Stored updates this instance moved to quarantined_updates (they would not integrate)', () => deps.store.quarantined)

    this.updatesHandled = new Counter({ name: 'botsync_bot_updates_handled_total', help: 'Telegram updates the embedded bot handled (answered or failed)', registers })
    this.updateSeconds = new Histogram({
      name: 'botsync_bot_update_duration_seconds',
      help: "Time the embedded bot's handlers took per update",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.telegramCalls = new Counter({
      name: 'botsync_bot_telegram_calls_total',
      help: 'Telegram Bot API requests by method and HTTP status (network: no answer); each retry counts',
      labelNames: ['method', 'status'],
      registers,
    })
    this.telegramRateLimited = new Counter({ name: 'botsync_bot_telegram_rate_limited_total', help: 'Telegram Bot API requests answered 429 (rate limited)', registers })
  }

  /** For DocumentStore's onCommitBatch. */
  readonly observeCommitBatch = (size: number): void => this.batchSize.observe(size)

  /** What the embedded bot reports to (StartBotOptions.observe). */
  readonly botObserver: BotObserver = {
    updateHandled: (ms) => {
      this.updatesHandled.inc()
      this.updateSeconds.observe(ms / 1000)
    },
    telegramCall: (method, status) => {
      this.telegramCalls.inc({ method, status: String(status) })
      if (status === 429) this.telegramRateLimited.inc()
    },
  }

  /**
   * GET /metrics: 401 without `Authorization: Bearer <token>` when a token
   * is set (compared in constant time: both sides hashed to equal lengths).
   */
  handler(token: string | undefined): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
    const expected = token === undefined ? undefined : digest(token)
    return async (request, response) => {
      if (expected) {
        const header = request.headers.authorization ?? ''
        const given = /^Bearer (.+)$/i.exec(header)?.[1]
        if (given === undefined || !timingSafeEqual(digest(given), expected)) {
          response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' })
          response.end('send Authorization: Bearer <METRICS_TOKEN>\n')
          return
        }
      }
      const body = await this.registry.metrics()
      response.writeHead(200, { 'content-type': this.registry.contentType, 'cache-control': 'no-store' })
      response.end(body)
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** METRICS_PORT: a listener that serves only GET /metrics (404 for anything else). */
export async function listenMetrics(port: number, host: string, handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<HttpServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    if (path !== METRICS_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(path === METRICS_PATH ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8', ...(path === METRICS_PATH ? { allow: 'GET, HEAD' } : {}) })
      response.end(path === METRICS_PATH ? 'method not allowed\n' : 'not found; this port serves /metrics only\n')
      return
    }
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500)
      response.end()
    })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server
}

export function portOf(server: HttpServer): number {
  return (server.address() as AddressInfo).port
}

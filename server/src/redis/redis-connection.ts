import { Redis } from 'ioredis'
import type { Logger } from '../logger.ts'
import type { RedisHealth, RedisLink } from './redis-link.ts'

export type { RedisHealth } from './redis-link.ts'

export interface RedisConnectionOptions {
  url: string
  /** CLIENT SETNAME base; the two links are `<name>:pub` and `<name>:sub`, so operators and tests can find them. */
  clientName: string
  log: Logger
  /** Longest pause between reconnection attempts. */
  maxRetryDelayMs?: number
  /** A link whose PING is not answered within this time is dropped and reconnected. */
  heartbeatMs?: number
}

const DEFAULT_MAX_RETRY_DELAY_MS = 2_000
const DEFAULT_HEARTBEAT_MS = 5_000

/**
 * The two Redis links of one instance (Redis requires a dedicated connection
 * for subscribing) and whether Redis is usable.
 *
 * Redis is never required for serving: while it is unreachable, publishing
 * reports failure instead of queueing (a queue would grow without bound, and
 * anti-entropy after the outage makes queued updates pointless), subscriptions
 * are remembered, and ioredis reconnects with capped exponential backoff. Once
 * both links are ready again and every channel is re-subscribed, `onUp` runs so
 * the fan-out can exchange state with its peers. Transitions are logged once.
 */
export class RedisConnection implements RedisLink {
  /** Called for every message on a subscribed channel. */
  onMessage: (channel: string, message: Buffer) => void = () => {}
  /** Called each time Redis becomes usable (first connect and every recovery). */
  onUp: () => void = () => {}

  private readonly publisher: Redis
  private readonly subscriber: Redis
  private readonly log: Logger
  private readonly channels = new Set<string>()
  private readonly heartbeat: NodeJS.Timeout
  private up = false
  private detail = 'connecting'
  private downSince = Date.now()
  private everUp = false
  private reportedDown = false
  private closed = false

  constructor(options: RedisConnectionOptions) {
    this.log = options.log
    const maxDelay = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS
    const common = {
      // Fail fast instead of queueing while disconnected (see the class comment).
      enableOfflineQueue: false,
      // We re-subscribe ourselves, so we know when the channels are live again.
      autoResubscribe: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(maxDelay, 100 * 2 ** Math.min(attempt - 1, 10)),
    }
    this.publisher = new Redis(options.url, { ...common, connectionName: `${options.clientName}:pub` })
    this.subscriber = new Redis(options.url, { ...common, connectionName: `${options.clientName}:sub` })

    for (const link of [this.publisher, this.subscriber]) {
      link.on('ready', () => void this.linkReady())
      link.on('close', () => this.linkLost('connection closed'))
      link.on('error', (error: Error) => this.linkLost(error.message))
    }
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel.toString(), message))

    const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    // A silently dropped TCP connection (no FIN/RST) would otherwise go
    // unnoticed for as long as the OS keepalive takes, usually hours.
    this.heartbeat = setInterval(() => {
      for (const link of [this.publisher, this.subscriber]) void this.probe(link, heartbeatMs)
    }, heartbeatMs)
    this.heartbeat.unref()
  }

  /**
   * The publishing link, for ordinary commands (login limits use it). It
   * fails fast while Redis is down instead of queueing, like publishes.
   */
  get commands(): Redis {
    return this.publisher
  }

  get isUp(): boolean {
    return this.up
  }

  health(): RedisHealth {
    return this.up ? { status: 'ok', detail: 'connected' } : { status: 'down', detail: this.detail }
  }

  /**
   * Remembers the channel and subscribes now if Redis is up (else on
   * recovery). Resolves once subscribed, or after `timeoutMs` at most: a Redis
   * that stopped answering must not hold up loading a document (the channel
   * stays remembered, and recovery re-syncs).
   */
  async subscribe(channel: string, timeoutMs = 1_000): Promise<void> {
    this.channels.add(channel)
    if (this.subscriber.status !== 'ready') return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.subscriber.subscribe(channel).catch((error: Error) => this.linkLost(error.message)),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ])
    clearTimeout(timer)
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel)
    if (this.subscriber.status !== 'ready') return
    await this.subscriber.unsubscribe(channel).catch(() => {})
  }

  /**
   * Publishes if the publishing link is up (even while the subscriber is
   * reconnecting: peers then still get our changes). False means the message
   * was dropped; the anti-entropy exchange after recovery covers it.
   */
  publish(channel: string, message: Uint8Array): boolean {
    if (this.publisher.status !== 'ready') return false
    this.publisher.publish(channel, Buffer.from(message.buffer, message.byteOffset, message.byteLength)).catch((error: Error) => this.linkLost(error.message))
    return true
  }

  /** Sends what is already written (QUIT is answered after it), then closes both links. */
  async close(timeoutMs = 2_000): Promise<void> {
    this.closed = true
    clearInterval(this.heartbeat)
    await Promise.all(
      [this.publisher, this.subscriber].map(async (link) => {
        if (link.status === 'ready') {
          // An unresponsive Redis must not hold up shutdown.
          let timer: NodeJS.Timeout | undefined
          const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))
          await Promise.race([link.quit().catch(() => {}), timeout])
          clearTimeout(timer)
        }
        link.disconnect(false)
      }),
    )
  }

  private async linkReady(): Promise<void> {
    if (this.closed || this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return
    const channels = [...this.channels]
    try {
      // Chunked so one command stays a reasonable size with many open documents.
      for (let i = 0; i < channels.length; i += 1000) await this.subscriber.subscribe(...channels.slice(i, i + 1000))
    } catch (error) {
      this.linkLost(error instanceof Error ? error.message : String(error))
      return
    }
    if (this.up || this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') return
    this.up = true
    this.detail = 'connected'
    if (this.reportedDown || this.everUp) {
      this.log.info({ event: 'redis-up', downForMs: Date.now() - this.downSince }, 'Redis is back; re-syncing documents with other instances')
    } else {
      this.log.info({ event: 'redis-connected' }, 'connected to Redis')
    }
    if (!this.everUp) void this.warnIfCluster()
    this.everUp = true
    this.reportedDown = false
    this.onUp()
  }

  /**
   * REDIS_URL naming a cluster node without REDIS_CLUSTER=1 half works (plain
   * pub/sub crosses a cluster, keys do not), so say so once, plainly.
   */
  private async warnIfCluster(): Promise<void> {
    const info = await this.publisher.info('cluster').catch(() => '')
    if (!/cluster_enabled:1/.test(info)) return
    this.log.error(
      { event: 'redis-is-cluster' },
      'REDIS_URL names a node of a Redis Cluster: set REDIS_CLUSTER=1 (or REDIS_CLUSTER_NODES) so botsync uses sharded pub/sub and cluster routing',
    )
  }

  private linkLost(detail: string): void {
    if (this.closed) return
    // Keep the first reason of an outage: later ones are usually "connection closed".
    if (this.up || !this.reportedDown) this.detail = detail
    if (this.up) {
      this.up = false
      this.downSince = Date.now()
    }
    if (!this.reportedDown) {
      this.reportedDown = true
      this.log.warn({ event: 'redis-down', detail: this.detail }, "Redis is unreachable; serving this instance's clients alone and saving to PostgreSQL; retrying with backoff")
    }
  }

  private async probe(link: Redis, timeoutMs: number): Promise<void> {
    if (this.closed || link.status !== 'ready') return
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))
    const answer = await Promise.race([link.ping().catch(() => 'error'), timedOut])
    clearTimeout(timer)
    if (answer === 'timeout' && !this.closed) {
      this.linkLost(`no answer to PING within ${timeoutMs} ms`)
      // Reconnecting makes ioredis emit ready again, which re-syncs.
      link.disconnect(true)
    }
  }
}

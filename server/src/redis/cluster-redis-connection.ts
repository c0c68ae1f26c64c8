import { Cluster } from 'ioredis'
import type { RedisClusterConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import type { RedisHealth, RedisLink } from './redis-link.ts'

export interface ClusterRedisConnectionOptions {
  cluster: RedisClusterConfig
  /** CLIENT SETNAME base; the links are `<name>:cluster` (commands) and ioredis' `ssubscriber` ones. */
  clientName: string
  log: Logger
  /** Longest pause between recovery attempts. */
  maxRetryDelayMs?: number
  /** Every master is PINGed this often; one that does not answer in time counts as an outage. */
  heartbeatMs?: number
}

const DEFAULT_MAX_RETRY_DELAY_MS = 2_000
const DEFAULT_HEARTBEAT_MS = 5_000
/** How long one master may take to answer during recovery: short, so a master that is back is noticed at the next try. */
const ANSWER_MS = 1_000

/**
 * Redis Cluster with sharded pub/sub (Redis 7): SPUBLISH goes to the shard that
 * owns the channel's slot only, where plain PUBLISH would be copied to every
 * node of the cluster. A document's traffic is one channel, so one slot and one
 * shard; ioredis' Cluster (`shardedSubscribers`) routes each SSUBSCRIBE to the
 * master of its slot and keeps one subscriber connection per master.
 *
 * What ioredis does not tell is when every channel is live again after a
 * master was lost (its subscriber group re-subscribes in the background and
 * reports nothing per channel), and anti-entropy must not run before that.
 * So this class treats the loss of any master, a failed publish or heartbeat,
 * or the cluster refusing service as one outage, like RedisConnection does
 * for a single Redis, and recovers itself: once every master answers and says
 * `cluster_state:ok`, it subscribes every remembered channel again, waits for
 * each confirmation, and only then calls `onUp` (which re-syncs every loaded
 * document). Until then it retries with capped backoff. Publishing goes on
 * while the cluster serves (the healthy shards still deliver) and fails fast
 * otherwise; transitions are logged once, with the single Redis' events.
 */
export class ClusterRedisConnection implements RedisLink {
  onMessage: (channel: string, message: Buffer) => void = () => {}
  onUp: () => void = () => {}

  private readonly cluster: Cluster
  private readonly log: Logger
  private readonly channels = new Set<string>()
  private readonly heartbeat: NodeJS.Timeout
  private readonly heartbeatMs: number
  private readonly maxRetryDelayMs: number
  private up = false
  private detail = 'connecting'
  private downSince = Date.now()
  private everUp = false
  private reportedDown = false
  private closed = false
  private saidNotCluster = false
  private recovering = false
  private recoveryTimer: NodeJS.Timeout | null = null
  private attempts = 0
  /**
   * Counts recoveries. A command sent before the latest one may still fail
   * after it (ioredis retries redirections for a while): that is not a new
   * outage, since the re-sync at recovery covered what it carried.
   */
  private epoch = 0

  constructor(options: ClusterRedisConnectionOptions) {
    this.log = options.log
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    const { nodes, username, password, tls } = options.cluster
    this.cluster = new Cluster(nodes, {
      shardedSubscribers: true,
      // Fail fast instead of queueing while the cluster is unusable (see RedisConnection).
      enableOfflineQueue: false,
      clusterRetryStrategy: (attempt: number) => this.retryDelay(attempt),
      redisOptions: {
        username,
        password,
        tls: tls ? {} : undefined,
        connectionName: `${options.clientName}:cluster`,
        maxRetriesPerRequest: 1,
        // We re-subscribe ourselves (recover), so we know when channels are live.
        autoResubscribe: false,
      },
    })
    this.cluster.on('ready', () => this.scheduleRecovery(0))
    this.cluster.on('error', (error: Error) => this.lost(error.message))
    this.cluster.on('node error', (error: Error) => this.lost(error.message))
    // A master's connection (commands or subscriber) ended: its shard's messages may be lost from here on.
    this.cluster.on('-node', () => {
      if (this.everUp) this.lost('lost the connection to a cluster node')
    })
    this.cluster.on('smessageBuffer', (channel: Buffer, message: Buffer) => this.onMessage(channel.toString(), message))

    this.heartbeat = setInterval(() => void this.probe(), this.heartbeatMs)
    this.heartbeat.unref()
  }

  get commands(): Cluster {
    return this.cluster
  }

  get isUp(): boolean {
    return this.up
  }

  health(): RedisHealth {
    return this.up ? { status: 'ok', detail: 'connected' } : { status: 'down', detail: this.detail }
  }

  /** While the cluster is down the channel is only remembered: recovery subscribes it before `onUp`. */
  async subscribe(channel: string, timeoutMs = 1_000): Promise<void> {
    this.channels.add(channel)
    if (!this.up) return
    const epoch = this.epoch
    await within(
      this.cluster.ssubscribe(channel).catch((error: Error) => this.lostSince(epoch, error)),
      timeoutMs,
    )
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel)
    if (!this.up) return
    await within(
      this.cluster.sunsubscribe(channel).catch(() => {}),
      1_000,
    )
  }

  publish(channel: string, message: Uint8Array): boolean {
    if (this.closed || this.cluster.status !== 'ready') return false
    const epoch = this.epoch
    this.cluster.spublish(channel, Buffer.from(message.buffer, message.byteOffset, message.byteLength)).catch((error: Error) => this.lostSince(epoch, error))
    return true
  }

  private lostSince(epoch: number, error: Error): void {
    if (epoch === this.epoch) this.lost(error.message)
  }

  async close(timeoutMs = 2_000): Promise<void> {
    this.closed = true
    clearInterval(this.heartbeat)
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer)
    if (this.cluster.status === 'ready')
      await within(
        this.cluster.quit().catch(() => {}),
        timeoutMs,
      )
    this.cluster.disconnect(false)
  }

  private retryDelay(attempt: number): number {
    return Math.min(this.maxRetryDelayMs, 100 * 2 ** Math.min(attempt - 1, 10))
  }

  private lost(detail: string): void {
    if (this.closed) return
    if (!this.saidNotCluster && detail.includes('cluster support disabled')) {
      this.saidNotCluster = true
      this.log.error({ event: 'redis-not-cluster' }, 'REDIS_CLUSTER_NODES (or REDIS_CLUSTER=1) names a Redis that is not a cluster: for one Redis, set only REDIS_URL')
    }
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
    this.scheduleRecovery(this.retryDelay(++this.attempts))
  }

  private scheduleRecovery(delayMs: number): void {
    if (this.closed || this.up || this.recoveryTimer || this.recovering) return
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = null
      void this.recover()
    }, delayMs)
  }

  private async recover(): Promise<void> {
    if (this.closed || this.up || this.recovering) return
    this.recovering = true
    try {
      await this.checkEveryMaster()
      // Channels remembered meanwhile are subscribed too; none is left out.
      const done = new Set<string>()
      for (;;) {
        const todo = [...this.channels].filter((channel) => !done.has(channel))
        if (todo.length === 0) break
        await this.resubscribe(todo)
        for (const channel of todo) done.add(channel)
      }
      // Forgotten while recovering: leave them again.
      for (const channel of done) if (!this.channels.has(channel)) void this.cluster.sunsubscribe(channel).catch(() => {})
    } catch (error) {
      this.recovering = false
      // Logs the outage if this is its first sign, and tries again later.
      this.lost(error instanceof Error ? error.message : String(error))
      return
    }
    this.recovering = false
    if (this.closed || this.up) return
    this.up = true
    this.epoch += 1
    this.attempts = 0
    this.detail = 'connected'
    if (this.reportedDown || this.everUp) {
      this.log.info({ event: 'redis-up', downForMs: Date.now() - this.downSince }, 'Redis is back; re-syncing documents with other instances')
    } else {
      this.log.info({ event: 'redis-connected', cluster: true }, 'connected to the Redis Cluster')
    }
    this.everUp = true
    this.reportedDown = false
    this.onUp()
  }

  /** Every master answers and serves every slot (a cluster missing a master refuses all commands by default). */
  private async checkEveryMaster(): Promise<void> {
    if (this.cluster.status !== 'ready') throw new Error(`cluster connection ${this.cluster.status}`)
    const masters = this.cluster.nodes('master')
    if (masters.length === 0) throw new Error('no cluster master known')
    await Promise.all(
      masters.map(async (master) => {
        const info = await within(master.cluster('INFO') as Promise<string>, ANSWER_MS)
        if (info === undefined) throw new Error(`no answer from ${master.options.host}:${master.options.port} within ${ANSWER_MS} ms`)
        const state = /cluster_state:(\w+)/.exec(info)?.[1]
        if (state !== 'ok') throw new Error(`cluster state is "${state}" on ${master.options.host}:${master.options.port}`)
      }),
    )
  }

  /**
   * SUNSUBSCRIBE first so ioredis' list of channels (which it re-subscribes on
   * its own reconnects) holds each channel once however many outages pass;
   * what is missed in between is healed by the re-sync `onUp` starts.
   */
  private async resubscribe(channels: string[]): Promise<void> {
    await Promise.all(
      channels.map(async (channel) => {
        await this.cluster.sunsubscribe(channel).catch(() => {})
        const confirmed = await within(this.cluster.ssubscribe(channel), ANSWER_MS)
        if (confirmed === undefined) throw new Error(`no confirmation of SSUBSCRIBE within ${ANSWER_MS} ms`)
      }),
    )
  }

  private async probe(): Promise<void> {
    if (this.closed || !this.up) return
    try {
      await this.checkEveryMaster()
    } catch (error) {
      this.lost(error instanceof Error ? error.message : String(error))
    }
  }
}

/** The promise's value, or undefined once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

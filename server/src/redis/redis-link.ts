import type { Cluster, Redis } from 'ioredis'

export interface RedisHealth {
  status: 'ok' | 'down'
  detail: string
}

/**
 * What the fan-out, /health, the metrics and the login limits need from
 * Redis, whether it is one server (RedisConnection: PUBLISH/SUBSCRIBE) or a
 * Redis Cluster (ClusterRedisConnection: sharded SPUBLISH/SSUBSCRIBE). Both
 * keep the same promises: publishing fails fast while Redis is unusable,
 * channels are remembered, and `onUp` runs once every remembered channel is
 * live again, so anti-entropy can heal what was missed.
 */
export interface RedisLink {
  /** Called for every message on a subscribed channel. */
  onMessage: (channel: string, message: Buffer) => void
  /** Called each time Redis becomes usable (first connect and every recovery). */
  onUp: () => void
  /** For ordinary commands (login limits); fails fast while Redis is down. */
  readonly commands: Redis | Cluster
  readonly isUp: boolean
  health(): RedisHealth
  /** Remembers the channel and subscribes now if possible; never waits longer than `timeoutMs`. */
  subscribe(channel: string, timeoutMs?: number): Promise<void>
  unsubscribe(channel: string): Promise<void>
  /** False means the message was dropped (Redis unusable); anti-entropy after recovery covers it. */
  publish(channel: string, message: Uint8Array): boolean
  close(timeoutMs?: number): Promise<void>
}

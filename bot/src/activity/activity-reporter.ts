import type { ActivityEvent } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'

type NewEvent = ActivityEvent extends infer E ? (E extends ActivityEvent ? Omit<E, 'at'> : never) : never

export interface ActivityReporterOptions {
  /** http(s)://host:port of the server. */
  serverUrl: string
  token: string
  log: Logger
  /** How often a batch is sent. Default 1 s. */
  flushIntervalMs?: number
  /** Events per request. Default 200. */
  batchSize?: number
  /** Events kept while the server is unreachable; the oldest go first. Default 10,000. */
  maxBuffered?: number
}

/**
 * Sends what users do (started, entered a scenario, reached a step, pressed a
 * button, had an input rejected) to the server in batches, where it becomes
 * the `<space>/activity` document of the dashboard. Reporting never holds up
 * an answer: events are buffered, sent every flushIntervalMs, kept and
 * retried with backoff while the server is unreachable, and the buffer is
 * bounded so an outage cannot exhaust memory.
 */
export class ActivityReporter {
  private readonly options: ActivityReporterOptions
  private readonly log: Logger
  private buffer: ActivityEvent[] = []
  private timer: NodeJS.Timeout | undefined
  private sending: Promise<void> | undefined
  private failures = 0
  private dropped = 0
  private stopped = false

  constructor(options: ActivityReporterOptions) {
    this.options = options
    this.log = options.log
  }

  record(event: NewEvent): void {
    if (this.stopped) return
    this.buffer.push({ ...event, at: Date.now() } as ActivityEvent)
    const max = this.options.maxBuffered ?? 10_000
    if (this.buffer.length > max) {
      const excess = this.buffer.length - max
      this.buffer.splice(0, excess)
      if (this.dropped === 0) this.log.warn({ event: 'activity-dropped', max }, 'activity buffer full; dropping the oldest events')
      this.dropped += excess
    }
    this.schedule(this.options.flushIntervalMs ?? 1000)
  }

  /** Events waiting to be sent. */
  get pending(): number {
    return this.buffer.length
  }

  /** Sends everything buffered now (one attempt per batch). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending
    while (this.buffer.length > 0) {
      const before = this.buffer.length
      await this.send()
      if (this.buffer.length >= before) break // the server is unreachable; keep them
    }
  }

  /** Last attempt to deliver, then stop. */
  async stop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.flush().catch(() => {})
    this.stopped = true
    if (this.buffer.length > 0) this.log.warn({ event: 'activity-lost', count: this.buffer.length }, 'stopped with undelivered activity')
  }

  private schedule(delay: number): void {
    if (this.timer || this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.send().then(() => {
        if (this.buffer.length === 0) return
        // Backoff after failures, up to 30 s; the normal pace otherwise.
        const base = this.options.flushIntervalMs ?? 1000
        this.schedule(this.failures > 0 ? Math.min(base * 2 ** this.failures, 30_000) : base)
      })
    }, delay)
  }

  private send(): Promise<void> {
    if (this.sending) return this.sending
    const batch = this.buffer.slice(0, this.options.batchSize ?? 200)
    if (batch.length === 0) return Promise.resolve()
    this.sending = this.post(batch)
      .then(() => {
        // Only now are they gone; a failed request keeps them for the next try.
        this.buffer.splice(0, batch.length)
        this.failures = 0
        if (this.dropped > 0) {
          this.log.warn({ event: 'activity-dropped', count: this.dropped })
          this.dropped = 0
        }
      })
      .catch((error: unknown) => {
        this.failures += 1
        if (error instanceof RejectedBatch) {
          // Retrying cannot fix a refused body; keep the rest flowing.
          this.buffer.splice(0, batch.length)
          this.log.error({ event: 'activity-refused', status: error.status, body: error.body, count: batch.length }, 'server refused an activity batch')
        } else if (this.failures === 1 || this.failures % 10 === 0) {
          this.log.warn({ event: 'activity-send-failed', err: error, pending: this.buffer.length }, 'could not report activity; will retry')
        }
      })
      .finally(() => {
        this.sending = undefined
      })
    return this.sending
  }

  private async post(events: ActivityEvent[]): Promise<void> {
    const response = await fetch(new URL('/api/activity', this.options.serverUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(10_000),
    })
    const body = await response.text()
    if (response.ok) return
    // 4xx other than 408/429 will not succeed on a retry.
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      throw new RejectedBatch(response.status, body.slice(0, 500))
    }
    throw new Error(`POST /api/activity answered ${response.status}: ${body.slice(0, 200)}`)
  }
}

class RejectedBatch extends Error {
  readonly status: number
  readonly body: string
  constructor(status: number, body: string) {
    super(`activity refused with ${status}`)
    this.status = status
    this.body = body
  }
}

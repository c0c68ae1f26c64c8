import pg from 'pg'
import type { Logger } from '../logger.ts'

/** Advisory-lock class of the bot's polling leadership (two-key form: never overlaps one-key locks such as compaction's). */
const LOCK_CLASS = 0x626f74 // "bot"

export interface PollerLeadershipOptions {
  connectionString: string
  /** What is led: one poller per key (the bot id and space). */
  key: string
  log: Logger
  /** How often a standby tries to take over. */
  retryMs: number
  /** Called when this instance became the poller. */
  onLead: () => Promise<void>
  /** Called when it lost the lock (its connection died): stop polling and handling now. */
  onLose: () => Promise<void>
}

/**
 * One poller per bot among any number of instances: whoever holds the
 * session-level advisory lock on a dedicated connection polls; the others
 * stand by and try again every retryMs. The lock goes with its connection,
 * so when the leader dies (SIGKILL included: the kernel closes its socket,
 * PostgreSQL ends the session) a standby gets it on its next try. If the
 * leader's own connection breaks, it stops at once (it can no longer know
 * it leads) and stands by too.
 */
export class PollerLeadership {
  private readonly options: PollerLeadershipOptions
  private client: pg.Client | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private leading = false
  private attempt: Promise<void> | undefined

  constructor(options: PollerLeadershipOptions) {
    this.options = options
  }

  get isLeader(): boolean {
    return this.leading
  }

  /** Tries once now, then every retryMs until it leads. */
  start(): Promise<void> {
    this.attempt = this.tryLead()
    return this.attempt
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.attempt
    const client = this.client
    this.client = undefined
    // Ending the session releases the lock.
    await client?.end().catch(() => {})
    this.leading = false
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.attempt = this.tryLead()
    }, this.options.retryMs)
  }

  private async tryLead(): Promise<void> {
    if (this.stopped || this.leading) return
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.options.connectionString, application_name: 'botsync-bot-leader' })
        client.on('error', () => this.lost(client))
        client.on('end', () => this.lost(client))
        await client.connect()
        if (this.stopped) {
          await client.end().catch(() => {})
          return
        }
        this.client = client
      }
      const [row] = (await this.client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [LOCK_CLASS, this.options.key])).rows
      if (row.locked && !this.stopped) {
        this.leading = true
        this.options.log.info({ event: 'bot-leader', key: this.options.key }, 'this instance polls Telegram now')
        await this.options.onLead()
        return
      }
    } catch (error) {
      this.options.log.warn({ event: 'bot-leader-check-failed', err: error }, 'could not check the polling leadership (or start polling); retrying')
      const client = this.client
      this.client = undefined
      if (this.leading) {
        this.leading = false
        await this.options.onLose().catch(() => {})
      }
      // Ending the session gives the lock back, if it was taken.
      await client?.end().catch(() => {})
    }
    this.schedule()
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return
    this.client = undefined
    if (!this.leading || this.stopped) return
    this.leading = false
    this.options.log.warn({ event: 'bot-leader-lost' }, 'lost the polling leadership (database connection closed); standing by')
    void this.options
      .onLose()
      .catch((error: unknown) => this.options.log.error({ event: 'bot-leader-stop-failed', err: error }))
      .finally(() => this.schedule())
  }
}

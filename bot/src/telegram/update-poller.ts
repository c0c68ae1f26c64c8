import { TelegramError, type Telegram } from 'telegraf'
import type { Update } from 'telegraf/types'
import type { Logger } from '../logger.ts'

export interface UpdatePollerOptions {
  telegram: Telegram
  /** Handles one update; rejections are logged, never fatal. */
  handle: (update: Update) => Promise<void>
  log: Logger
  /** Long-poll timeout in seconds. Default 30. */
  pollTimeoutSeconds?: number
  /** Updates being handled at once before polling pauses. Default 200. */
  maxInFlight?: number
  /** Awaited once per fetched batch before any of it is dispatched (read-your-writes: SpaceReplica.catchUp); a rejection is logged and the batch handled anyway. */
  beforeBatch?: (updates: Update[]) => Promise<void>
}

/**
 * Long polling with one ordered queue per chat. telegraf's own polling
 * handles a batch with Promise.all and fetches the next batch only when all
 * of it is done, so a single chat waiting for its rate-limit slot would hold
 * up every other chat. Here each chat's updates run one after another (their
 * session and replies stay in order) while chats run side by side, and the
 * next long poll starts as soon as a batch is dispatched.
 *
 * An update is confirmed to Telegram by the next poll, while it may still be
 * running; stop() lets running updates finish before the process exits, so
 * only a crash can cut one short.
 */
export class UpdatePoller {
  private readonly options: UpdatePollerOptions
  private readonly log: Logger
  private readonly abort = new AbortController()
  private readonly inFlight = new Map<number, Promise<void>>()
  private readonly chains = new Map<string, Promise<void>>()
  private highest: number | undefined
  private waiters: (() => void)[] = []
  private running: Promise<void> | undefined
  private stopping = false

  constructor(options: UpdatePollerOptions) {
    this.options = options
    this.log = options.log
  }

  start(): void {
    if (this.running) throw new Error('UpdatePoller: already started')
    this.running = this.loop()
  }

  /** Stops polling, lets running handlers finish and confirms what was handled. */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.abort.abort()
    this.wake()
    await this.running
    await Promise.allSettled([...this.inFlight.values()])
    if (this.highest !== undefined) {
      // Telegram forgets updates below the offset of the next getUpdates;
      // without this a restarted bot would handle the last batch again.
      await this.options.telegram.callApi('getUpdates', { offset: this.highest + 1, limit: 1, timeout: 0 }).catch(() => {})
    }
  }

  private async loop(): Promise<void> {
    const timeout = this.options.pollTimeoutSeconds ?? 30
    const maxInFlight = this.options.maxInFlight ?? 200
    let failures = 0
    while (!this.stopping) {
      let updates: Update[]
      try {
        updates = (await this.options.telegram.callApi(
          'getUpdates',
          { offset: this.highest === undefined ? undefined : this.highest + 1, timeout, allowed_updates: [] },
          { signal: this.abort.signal as never },
        )) as Update[]
        failures = 0
      } catch (error) {
        if (this.stopping) break
        failures += 1
        if (error instanceof TelegramError && error.code === 401) {
          this.log.fatal({ event: 'telegram-unauthorized' }, 'Telegram refused the bot token; polling stopped')
          break
        }
        const retryAfter = error instanceof TelegramError ? error.parameters?.retry_after : undefined
        const wait = retryAfter ? retryAfter * 1000 : Math.min(500 * 2 ** (failures - 1), 30_000)
        this.log.warn({ event: 'polling-failed', err: error, retryInMs: wait }, 'getUpdates failed; retrying')
        await this.sleep(wait)
        continue
      }
      if (updates.length > 0 && this.options.beforeBatch) {
        await this.options.beforeBatch(updates).catch((error: unknown) => this.log.error({ event: 'before-batch-failed', err: error }, 'handling the batch anyway'))
      }
      for (const update of updates) {
        if (this.highest !== undefined && update.update_id <= this.highest) continue
        this.highest = update.update_id
        this.dispatch(update)
      }
      while (this.inFlight.size >= maxInFlight && !this.stopping) await this.nextCompletion()
    }
  }

  private dispatch(update: Update): void {
    const id = update.update_id
    const key = chatKeyOf(update)
    const previous = this.chains.get(key) ?? Promise.resolve()
    const run = previous
      .then(() => this.options.handle(update))
      .catch((error: unknown) => this.log.error({ event: 'update-failed', update: id, err: error }, 'handling an update failed'))
    this.chains.set(key, run)
    this.inFlight.set(id, run)
    void run.finally(() => {
      this.inFlight.delete(id)
      if (this.chains.get(key) === run) this.chains.delete(key)
      this.wake()
    })
  }

  private nextCompletion(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}

/** Updates of one chat share a queue; anything without a chat shares one too. */
function chatKeyOf(update: Update): string {
  for (const value of Object.values(update)) {
    if (typeof value !== 'object' || value === null) continue
    const body = value as { chat?: { id?: number }; message?: { chat?: { id?: number } }; from?: { id?: number } }
    const id = body.chat?.id ?? body.message?.chat?.id ?? body.from?.id
    if (id !== undefined) return String(id)
  }
  return 'none'
}

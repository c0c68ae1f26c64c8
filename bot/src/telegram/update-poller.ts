import { TelegramError, type Telegram } from 'telegraf'
import type { Update } from 'telegraf/types'
import type { Logger } from '../logger.ts'

export interface UpdatePollerOptions {
  telegram: Telegram
  /**
   * Records a batch durably (the inbox); resolves once it committed. Only
   * then does the next getUpdates confirm the batch to Telegram. A rejection
   * leaves the batch unconfirmed: the next poll fetches it again.
   */
  record: (updates: Update[]) => Promise<void>
  log: Logger
  /** Long-poll timeout in seconds. Default 30. */
  pollTimeoutSeconds?: number
  /** Told when getUpdates starts or stops working: null after an answer, Telegram's error after a refusal (401, 409 …) or a network failure. */
  onPollOutcome?: (error: unknown) => void
}

/**
 * Long polling into the durable inbox. getUpdates' offset confirms every
 * update below it, and Telegram then forgets them; so the offset moves past a
 * batch only after `record` committed it. A crash between the two costs
 * nothing: the batch comes again and recording it again changes nothing.
 * Handling happens elsewhere (InboxWorker), so polling never waits for a
 * slow chat.
 */
export class UpdatePoller {
  private readonly options: UpdatePollerOptions
  private readonly log: Logger
  private readonly abort = new AbortController()
  private highest: number | undefined
  private running: Promise<void> | undefined
  private stopping = false
  private wakeSleep: (() => void) | undefined

  constructor(options: UpdatePollerOptions) {
    this.options = options
    this.log = options.log
  }

  start(): void {
    if (this.running) throw new Error('UpdatePoller: already started')
    this.running = this.loop()
  }

  /** Stops polling and confirms what was recorded. */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.abort.abort()
    this.wakeSleep?.()
    await this.running
    if (this.highest !== undefined) {
      // Everything up to `highest` is recorded: let Telegram forget it, so a
      // restarted bot does not fetch (and skip) the last batch again.
      await this.options.telegram.callApi('getUpdates', { offset: this.highest + 1, limit: 1, timeout: 0 }).catch(() => {})
    }
  }

  private async loop(): Promise<void> {
    const timeout = this.options.pollTimeoutSeconds ?? 30
    let failures = 0
    while (!this.stopping) {
      let stage: 'fetch' | 'record' = 'fetch'
      try {
        const updates = (await this.options.telegram.callApi(
          'getUpdates',
          { offset: this.highest === undefined ? undefined : this.highest + 1, timeout, allowed_updates: [] },
          { signal: this.abort.signal as never },
        )) as Update[]
        stage = 'record'
        this.options.onPollOutcome?.(null)
        const fresh = updates.filter((update) => this.highest === undefined || update.update_id > this.highest)
        await this.options.record(fresh)
        for (const update of fresh) this.highest = Math.max(this.highest ?? update.update_id, update.update_id)
        failures = 0
      } catch (error) {
        if (this.stopping) break
        failures += 1
        if (stage === 'fetch') this.options.onPollOutcome?.(error)
        if (error instanceof TelegramError && error.code === 401) {
          this.log.fatal({ event: 'telegram-unauthorized' }, 'Telegram refused the bot token; polling stopped')
          break
        }
        const retryAfter = error instanceof TelegramError ? error.parameters?.retry_after : undefined
        const wait = retryAfter ? retryAfter * 1000 : Math.min(500 * 2 ** (failures - 1), 30_000)
        if (stage === 'fetch') this.log.warn({ event: 'polling-failed', err: error, retryInMs: wait }, 'getUpdates failed; retrying')
        else this.log.warn({ event: 'inbox-record-failed', err: error, retryInMs: wait }, 'recording updates failed; they stay unconfirmed and come again')
        await this.sleep(wait)
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wakeSleep = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}

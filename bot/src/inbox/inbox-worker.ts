import type { Update } from 'telegraf/types'
import type { Logger } from '../logger.ts'
import { UnitOfWork, withUnitOfWork } from './unit-of-work.ts'
import type { ClaimedUpdate, UpdateInbox } from './update-inbox.ts'

export interface InboxWorkerOptions {
  inbox: UpdateInbox
  /** Handles one update; rejections are logged and the update still counts as handled. */
  handle: (update: Update) => Promise<void>
  /**
   * Awaited once per batch of claimed updates before any of them is handled
   * (the bot sets it to "let the replica catch up"). Unset: no wait. A
   * rejection is logged and the batch is handled anyway.
   */
  beforeBatch?: (updates: Update[]) => Promise<void>
  log: Logger
  /** Called once an update's handled mark committed (metrics, benchmarks). */
  onHandled?: (update: Update) => void
  /** Updates being handled at once. Default 200. */
  maxInFlight?: number
  /** How often to look for work nobody woke this worker for (others' records, expired claims). Default 1000 ms. */
  idleCheckMs?: number
}

const PRUNE_EVERY_MS = 10 * 60_000
const RETENTION_HOURS = 24

/**
 * Handles what the inbox holds: claims each chat's oldest unhandled update,
 * runs it, and commits its session change together with its handled mark;
 * then the chat's next update can be claimed. Chats run side by side, each
 * chat's updates one after another (their sessions and replies stay in
 * order). offer() hands it updates its instance claimed while recording
 * them; wake() says "something was recorded"; without either the worker still
 * looks every idleCheckMs, which is how it finds updates recorded by another
 * instance or left behind by a dead one.
 */
export class InboxWorker {
  private readonly options: InboxWorkerOptions
  private readonly log: Logger
  private readonly inFlight = new Map<number, Promise<void>>()
  private running: Promise<void> | undefined
  private stopping = false
  private woken = false
  private waiter: (() => void) | undefined
  private lastPrune = 0
  /** Updates handled by this worker (committed). */
  handled = 0

  constructor(options: InboxWorkerOptions) {
    this.options = options
    this.log = options.log
  }

  start(): void {
    if (this.running) throw new Error('InboxWorker: already started')
    this.running = this.loop()
  }

  /** Claims no more, lets running updates finish and commit. */
  async stop(): Promise<void> {
    this.stopping = true
    this.wake()
    await this.running
    await Promise.allSettled([...this.inFlight.values()])
  }

  /** There may be new work: claim now rather than at the next idle check. */
  wake(): void {
    this.woken = true
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.()
  }

  private async loop(): Promise<void> {
    const maxInFlight = this.options.maxInFlight ?? 200
    const idle = this.options.idleCheckMs ?? 1000
    let failures = 0
    while (!this.stopping) {
      this.woken = false
      let claimed: ClaimedUpdate[]
      try {
        claimed = await this.options.inbox.claim(maxInFlight - this.inFlight.size)
        failures = 0
        await this.maybePrune()
      } catch (error) {
        failures += 1
        this.log.warn({ event: 'inbox-claim-failed', err: error }, 'claiming updates from the inbox failed; retrying')
        await this.sleep(Math.min(250 * 2 ** (failures - 1), 5_000))
        continue
      }
      if (claimed.length > 0) {
        await this.offer(claimed)
        continue
      }
      if (!this.woken) await this.sleep(idle)
    }
  }

  /**
   * Handles updates this instance has claimed (by its own claim or by
   * recordAndClaim): beforeBatch once, then each in its chat's turn.
   * These come on top of maxInFlight, which bounds only the worker's own
   * claims (a recorded batch is at most one getUpdates' 100).
   */
  async offer(claimed: ClaimedUpdate[]): Promise<void> {
    if (claimed.length === 0) return
    if (this.options.beforeBatch) {
      await this.options.beforeBatch(claimed.map((c) => c.update)).catch((error: unknown) => {
        this.log.warn({ event: 'before-batch-failed', err: error }, 'beforeBatch failed; handling the batch anyway')
      })
    }
    for (const item of claimed) this.run(item)
  }

  private run(item: ClaimedUpdate): void {
    const unit = new UnitOfWork()
    const run = (async () => {
      try {
        await withUnitOfWork(unit, () => this.options.handle(item.update))
      } catch (error) {
        this.log.error({ event: 'update-failed', update: item.updateId, err: error }, 'handling an update failed')
      }
      await this.complete(item, unit)
    })()
    this.inFlight.set(item.updateId, run)
    void run.finally(() => {
      this.inFlight.delete(item.updateId)
      // The chat's next update (if any) is claimable now.
      this.wake()
    })
  }

  /** Commits the update's changes and handled mark, retrying a failing database a few times. */
  private async complete(item: ClaimedUpdate, unit: UnitOfWork): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.options.inbox.complete(item.updateId, unit)) {
          this.handled += 1
          this.options.onHandled?.(item.update)
        } else this.log.warn({ event: 'update-claim-lost', update: item.updateId }, 'another instance took this update over; its changes were not committed here')
        return
      } catch (error) {
        if (attempt >= 5) {
          // Left claimed: once the claim runs out the update is handled again (its answer may repeat).
          this.log.error({ event: 'update-commit-failed', update: item.updateId, err: error }, 'could not mark an update handled')
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
      }
    }
  }

  private async maybePrune(): Promise<void> {
    const now = Date.now()
    if (now - this.lastPrune < PRUNE_EVERY_MS) return
    this.lastPrune = now
    await this.options.inbox.prune(RETENTION_HOURS)
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        resolve()
      }, ms)
      this.waiter = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}

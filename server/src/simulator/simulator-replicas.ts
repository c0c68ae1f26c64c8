import type { SpaceReplica } from '@botsync/bot'
import type { Logger } from '../logger.ts'

export interface SimulatorReplicasOptions {
  /** The replica of the space's running embedded bot, if this instance runs one. */
  botReplica: (space: string) => SpaceReplica | undefined
  /** Opens a read-only replica of a space the way the embedded bot does (its URL and per-space token), not yet started. */
  open: (space: string) => Promise<SpaceReplica>
  log: Logger
  /** How long a first open waits for the content. Default 10 s. */
  syncTimeoutMs?: number
}

/** A replica lent to a simulated chat; `release()` once the chat ends. */
export interface ReplicaLease {
  readonly replica: SpaceReplica
  release(): void
}

interface Opened {
  replica: Promise<SpaceReplica>
  users: number
}

/**
 * The content the chat simulator answers from: a space's live replica, as
 * the bot itself reads it (so "what the bot would say" is read from the same
 * kind of copy, with the same catch-up). The space's embedded bot's replica
 * is used when this instance runs that bot; otherwise one is opened the way
 * the bot opens its own (read-only, over /collab, with the space's derived
 * token) and shared by every simulated chat of the space, closed when the
 * last of them ends. Opened replicas are never saved to a file: they live
 * only as long as someone is trying the bot.
 */
export class SimulatorReplicas {
  private readonly options: SimulatorReplicasOptions
  private readonly opened = new Map<string, Opened>()

  constructor(options: SimulatorReplicasOptions) {
    this.options = options
  }

  async acquire(space: string): Promise<ReplicaLease> {
    const shared = this.options.botReplica(space)
    if (shared) return { replica: shared, release: () => {} }
    let entry = this.opened.get(space)
    if (!entry) {
      entry = { replica: this.start(space), users: 0 }
      this.opened.set(space, entry)
      const failed = entry
      entry.replica.catch(() => {
        if (this.opened.get(space) === failed) this.opened.delete(space)
      })
    }
    entry.users++
    let replica: SpaceReplica
    try {
      replica = await entry.replica
    } catch (error) {
      entry.users--
      throw error
    }
    let released = false
    const held = entry
    return {
      replica,
      release: () => {
        if (released) return
        released = true
        if (--held.users > 0 || this.opened.get(space) !== held) return
        this.opened.delete(space)
        void replica.stop().catch((err: unknown) => this.options.log.warn({ event: 'simulator-replica-stop-failed', space, err }))
      },
    }
  }

  /** Stops every replica opened for the simulator (server shutdown). */
  async stop(): Promise<void> {
    const entries = [...this.opened.values()]
    this.opened.clear()
    await Promise.allSettled(entries.map(async (entry) => (await entry.replica).stop()))
  }

  private async start(space: string): Promise<SpaceReplica> {
    const replica = await this.options.open(space)
    await replica.start()
    const synced = await replica.whenSynced(this.options.syncTimeoutMs ?? 10_000)
    if (!synced) {
      await replica.stop().catch(() => {})
      throw new Error(`the content of ${space} did not arrive`)
    }
    this.options.log.info({ event: 'simulator-replica-opened', space })
    return replica
  }
}

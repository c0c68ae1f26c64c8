import { randomBytes } from 'node:crypto'
import type { SimulatedChat, SpaceView } from '@botsync/bot'
import type { SimulatorSource } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'
import type { ReplicaLease, SimulatorReplicas } from './simulator-replicas.ts'

export interface SimulatorSessionsOptions {
  replicas: SimulatorReplicas
  log: Logger
  /** A conversation unused this long is dropped. */
  ttlMs: number
  /** Conversations held at once; beyond it `create` refuses (TooManySimulations). */
  maxSessions: number
  /** MINIAPP_URL: web_app buttons naming a page of the bot's Mini App resolve against it, per space, as the bot's do. */
  miniAppUrl?: string
  now?: () => number
}

/** One admin's conversation: whose, in which space, and the chat itself. */
export interface SimulatorSession {
  readonly id: string
  readonly userId: string
  readonly space: string
  readonly source: SimulatorSource
  readonly chat: SimulatedChat
}

interface Held extends SimulatorSession {
  lease: ReplicaLease
  usedAt: number
}

export class TooManySimulations extends Error {}

/**
 * The chat simulator's conversations, in this process's memory only: a
 * conversation is one admin trying one space's bot, so nothing about it is
 * worth keeping past a restart, and keeping it out of PostgreSQL is what
 * guarantees real users' sessions are never touched. Each is found by a
 * random id and belongs to the user who created it (another user's id is
 * "not found"). A conversation unused for the TTL is dropped; an admin
 * holds at most one per space (a new one, as Reset does, replaces it), and
 * the process at most `maxSessions`.
 */
export class SimulatorSessions {
  private readonly options: SimulatorSessionsOptions
  private readonly sessions = new Map<string, Held>()
  private readonly sweeper: NodeJS.Timeout
  private readonly now: () => number

  constructor(options: SimulatorSessionsOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    this.sweeper = setInterval(() => this.sweep(), Math.max(1_000, Math.min(60_000, options.ttlMs / 2)))
    this.sweeper.unref()
  }

  get size(): number {
    return this.sessions.size
  }

  async create(userId: string, space: string, source: SimulatorSource, user: { name: string }): Promise<SimulatorSession> {
    this.sweep()
    for (const held of this.sessions.values()) if (held.userId === userId && held.space === space) this.drop(held)
    if (this.sessions.size >= this.options.maxSessions) throw new TooManySimulations(`${this.options.maxSessions} conversations are open; try again in a moment`)
    // The bot package (telegraf) is loaded on the first conversation, as for the embedded bots.
    const { SimulatedChat, SpaceView, miniAppUrlForSpace } = await import('@botsync/bot')
    const lease = await this.options.replicas.acquire(space)
    const replica = lease.replica
    const view: SpaceView = new SpaceView(replica, this.options.log, {
      miniAppUrl: this.options.miniAppUrl ? miniAppUrlForSpace(this.options.miniAppUrl, space) : undefined,
      draftsOnly: source === 'drafts',
    })
    const chat = new SimulatedChat({
      view,
      log: this.options.log,
      // The id only keys the in-memory chat; it never reaches Telegram or the session store.
      user: { id: 1_000_000 + this.sessions.size, first_name: user.name || 'Admin' },
      beforeUpdate: () => replica.catchUp(),
    })
    const id = randomBytes(16).toString('hex')
    const held: Held = { id, userId, space, source, chat, lease, usedAt: this.now() }
    this.sessions.set(id, held)
    this.options.log.info({ event: 'simulator-started', space, user: userId, source })
    return held
  }

  /** The user's conversation, kept alive by the use; undefined when unknown, expired or someone else's. */
  get(id: string, userId: string, space: string): SimulatorSession | undefined {
    const held = this.sessions.get(id)
    if (!held || held.userId !== userId || held.space !== space) return undefined
    if (this.now() - held.usedAt > this.options.ttlMs) {
      this.drop(held)
      return undefined
    }
    held.usedAt = this.now()
    return held
  }

  /** Ends a conversation (Reset); true when there was one. */
  delete(id: string, userId: string, space: string): boolean {
    const held = this.sessions.get(id)
    if (!held || held.userId !== userId || held.space !== space) return false
    this.drop(held)
    return true
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper)
    for (const held of [...this.sessions.values()]) this.drop(held)
    await this.options.replicas.stop()
  }

  private sweep(): void {
    const now = this.now()
    for (const held of [...this.sessions.values()]) if (now - held.usedAt > this.options.ttlMs) this.drop(held)
  }

  private drop(held: Held): void {
    if (!this.sessions.delete(held.id)) return
    held.lease.release()
  }
}

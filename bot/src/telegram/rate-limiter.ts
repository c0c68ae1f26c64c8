export interface Rate {
  perSecond: number
  /** How many sends may go out back to back before the rate applies. */
  burst: number
}

export interface RateLimits {
  perChat: Rate
  global: Rate
}

/** Telegram's published guidance: about one message a second per chat, thirty a second overall. */
export const TELEGRAM_RATE_LIMITS: RateLimits = {
  perChat: { perSecond: 1, burst: 3 },
  global: { perSecond: 30, burst: 30 },
}

/**
 * Schedules outgoing messages under a per-chat and a global rate, using the
 * generic cell rate algorithm: each bucket is just the time its next send is
 * due, so reserving a slot is arithmetic and callers wait in arrival order.
 */
export class RateLimiter {
  private readonly limits: RateLimits
  private readonly chats = new Map<string, number>()
  private global = 0
  private readonly now: () => number

  constructor(limits: RateLimits = TELEGRAM_RATE_LIMITS, now: () => number = () => performance.now()) {
    this.limits = limits
    this.now = now
  }

  /** Reserves the next slot for `chat` and returns how many ms to wait for it. */
  reserve(chat: string): number {
    const now = this.now()
    const chatInterval = 1000 / this.limits.perChat.perSecond
    const globalInterval = 1000 / this.limits.global.perSecond
    const chatDue = this.chats.get(chat) ?? now
    // A bucket allows `burst` sends ahead of its steady schedule.
    const chatEarliest = chatDue - (this.limits.perChat.burst - 1) * chatInterval
    const globalEarliest = this.global - (this.limits.global.burst - 1) * globalInterval
    const at = Math.max(now, chatEarliest, globalEarliest)
    this.chats.set(chat, Math.max(chatDue, at) + chatInterval)
    this.global = Math.max(this.global, at) + globalInterval
    if (this.chats.size > 10_000) this.forgetIdle(now)
    return at - now
  }

  /** After a 429 for `chat`: nothing more goes to it for `ms`. */
  pause(chat: string, ms: number): void {
    const interval = 1000 / this.limits.perChat.perSecond
    // The due time sits `burst - 1` intervals ahead of the first allowed send.
    const due = this.now() + ms + (this.limits.perChat.burst - 1) * interval
    this.chats.set(chat, Math.max(this.chats.get(chat) ?? 0, due))
  }

  /** Waits for the slot `reserve` gives. */
  async acquire(chat: string): Promise<void> {
    const wait = this.reserve(chat)
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }

  private forgetIdle(now: number): void {
    for (const [chat, due] of this.chats) if (due < now) this.chats.delete(chat)
  }
}

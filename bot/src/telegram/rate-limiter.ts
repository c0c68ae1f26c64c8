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
 * Schedules outgoing messages under a per-chat and a global rate, with the
 * generic cell rate algorithm: a bucket is just the time its next send is
 * due, so taking a slot is arithmetic and callers are served in order.
 *
 * A send first waits for its chat's slot and only then takes a global one.
 * Reserving both at once would book global capacity for a chat's slot
 * seconds ahead and make every other chat queue behind it.
 */
export class RateLimiter {
  private readonly limits: RateLimits
  private readonly chats = new Map<string, number>()
  private global = Number.NEGATIVE_INFINITY
  private readonly now: () => number

  constructor(limits: RateLimits = TELEGRAM_RATE_LIMITS, now: () => number = () => performance.now()) {
    this.limits = limits
    this.now = now
  }

  /** Takes the next slot of `chat`; returns the ms until it. */
  reserveChat(chat: string): number {
    const now = this.now()
    const { due, wait } = take(this.chats.get(chat) ?? now, now, this.limits.perChat)
    this.chats.set(chat, due)
    if (this.chats.size > 10_000) this.forgetIdle(now)
    return wait
  }

  /** Takes the next global slot; returns the ms until it. */
  reserveGlobal(): number {
    const now = this.now()
    const { due, wait } = take(Math.max(this.global, now), now, this.limits.global)
    this.global = due
    return wait
  }

  /** After a 429 for `chat`: nothing more goes to it for `ms`. */
  pause(chat: string, ms: number): void {
    const interval = 1000 / this.limits.perChat.perSecond
    // The due time sits `burst - 1` intervals ahead of the first allowed send.
    const due = this.now() + ms + (this.limits.perChat.burst - 1) * interval
    this.chats.set(chat, Math.max(this.chats.get(chat) ?? 0, due))
  }

  /** Waits for a slot of `chat`, then for a global one. */
  async acquire(chat: string): Promise<void> {
    await sleep(this.reserveChat(chat))
    await sleep(this.reserveGlobal())
  }

  private forgetIdle(now: number): void {
    for (const [chat, due] of this.chats) if (due < now) this.chats.delete(chat)
  }
}

/** One GCRA step: `due` is when the bucket's next send is due at its steady rate. */
function take(due: number, now: number, rate: Rate): { due: number; wait: number } {
  const interval = 1000 / rate.perSecond
  // A bucket allows `burst` sends ahead of its steady schedule.
  const at = Math.max(now, due - (rate.burst - 1) * interval)
  return { due: Math.max(due, at) + interval, wait: at - now }
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}

/**
 * Per-WebSocket update rate: a token bucket of `burst` updates refilled at
 * `perSecond`. A frame that carries an update counts as one, whatever its
 * size: an offline client's whole backlog arrives as one sync step 2, and a
 * paste is one update, so the burst only has to cover many small frames
 * (typing, a reconnect that syncs many documents at once).
 *
 * Refusals have a bucket of their own: a client that keeps sending while
 * refused (more than ABUSE_REFUSALS beyond what ABUSE_REFILL_PER_SECOND
 * forgives) is abusive, and its socket is closed.
 *
 * Written by hand rather than with rate-limiter-flexible: its memory limiter
 * counts fixed windows per key in a shared store with expiry timers, while
 * this wants a true token bucket that lives and dies with one socket (a
 * WeakMap entry), answered synchronously for every frame.
 */
export const ABUSE_REFUSALS = 100
export const ABUSE_REFILL_PER_SECOND = 10

export type RateDecision = 'accepted' | 'refused' | 'abusive'

export class TokenBucket {
  private tokens: number
  private last: number
  private readonly perSecond: number
  private readonly capacity: number

  constructor(perSecond: number, capacity: number, now: number) {
    this.perSecond = perSecond
    this.capacity = capacity
    this.tokens = capacity
    this.last = now
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until one token is back. */
  msUntilToken(now: number): number {
    const tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond)
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.perSecond) * 1000)
  }
}

interface SocketBuckets {
  updates: TokenBucket
  refusals: TokenBucket
}

export class UpdateRate {
  private readonly perSecond: number
  private readonly burst: number
  private readonly sockets = new WeakMap<object, SocketBuckets>()

  /** `perSecond` 0 turns the limit off. */
  constructor(options: { perSecond: number; burst: number }) {
    this.perSecond = options.perSecond
    this.burst = Math.max(1, options.burst)
  }

  get enabled(): boolean {
    return this.perSecond > 0
  }

  take(socket: object, now = performance.now()): RateDecision {
    if (!this.enabled) return 'accepted'
    const buckets = this.buckets(socket, now)
    if (buckets.updates.take(now)) return 'accepted'
    return buckets.refusals.take(now) ? 'refused' : 'abusive'
  }

  /** When the socket may send its next update (for asking it to resend). */
  msUntilAccepted(socket: object, now = performance.now()): number {
    return this.buckets(socket, now).updates.msUntilToken(now)
  }

  private buckets(socket: object, now: number): SocketBuckets {
    let buckets = this.sockets.get(socket)
    if (!buckets) {
      buckets = {
        updates: new TokenBucket(this.perSecond, this.burst, now),
        refusals: new TokenBucket(ABUSE_REFILL_PER_SECOND, ABUSE_REFUSALS, now),
      }
      this.sockets.set(socket, buckets)
    }
    return buckets
  }
}

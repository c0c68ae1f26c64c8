import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Cluster, Redis } from 'ioredis'

export interface LoginLimits {
  /** Failed logins from one address per `ipWindowSeconds`; then 429 until the window ends. */
  maxFailuresPerIp: number
  ipWindowSeconds: number
  /** From this many consecutive failures on one email, each further attempt waits 1 s, 2 s, 4 s … */
  slowdownAfter: number
  /** This many consecutive failures lock the email for `lockoutSeconds`. */
  maxFailuresPerAccount: number
  lockoutSeconds: number
}

/** How long consecutive failures on one email are remembered without a success. */
const ACCOUNT_MEMORY_SECONDS = 24 * 60 * 60
/** The longest slow-down pause, well below any sensible lockout. */
const MAX_SLOWDOWN_SECONDS = 60

/**
 * Login brute-force protection after rate-limiter-flexible's "login endpoint
 * protection" pattern: failures are counted per client address and per
 * account (normalised email), checked *before* the password is verified (a
 * refused attempt costs no scrypt), and a success resets the account's count.
 *
 * Failures for unknown emails are counted exactly like wrong passwords, so
 * the limiter answers the same whether an account exists or not.
 *
 * With Redis the counts are shared by every instance (RateLimiterRedis); each
 * Redis limiter has a memory limiter as `insuranceLimiter`, so while Redis is
 * unreachable the limits keep holding per instance, neither opening the door
 * nor locking everyone out. Without Redis, memory only.
 */
export class LoginLimiter {
  private readonly limits: LoginLimits
  private readonly byIp: RateLimiterAbstract
  private readonly byAccount: RateLimiterAbstract
  /** One point per key: `block(key, seconds)` makes the next attempt wait. */
  private readonly slowDown: RateLimiterAbstract

  constructor(limits: LoginLimits, options: { redis?: Redis | Cluster | null; prefix?: string } = {}) {
    this.limits = limits
    const prefix = options.prefix ?? 'botsync'
    const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      const settings = { keyPrefix: `${prefix}:${keyPrefix}`, points, duration }
      if (!options.redis) return new RateLimiterMemory(settings)
      return new RateLimiterRedis({
        ...settings,
        storeClient: options.redis,
        // ioredis with the offline queue off fails at once while Redis is
        // down; this sends those calls straight to the memory insurance.
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(settings),
      })
    }
    this.byIp = limiter('login-fail-ip', limits.maxFailuresPerIp, limits.ipWindowSeconds)
    this.byAccount = limiter('login-fail-account', limits.maxFailuresPerAccount, ACCOUNT_MEMORY_SECONDS)
    this.slowDown = limiter('login-slow-account', 1, 1)
  }

  /** Seconds the caller must wait before this attempt is even checked, or 0 to go ahead. */
  async retryAfter(address: string, email: string): Promise<number> {
    const [ip, account, slow] = await Promise.all([this.byIp.get(address), this.byAccount.get(email), this.slowDown.get(email)])
    let waitMs = 0
    if (ip && ip.consumedPoints >= this.limits.maxFailuresPerIp) waitMs = Math.max(waitMs, ip.msBeforeNext)
    if (account && account.consumedPoints >= this.limits.maxFailuresPerAccount) waitMs = Math.max(waitMs, account.msBeforeNext)
    if (slow && slow.consumedPoints > 1) waitMs = Math.max(waitMs, slow.msBeforeNext)
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0
  }

  /** Counts a failed attempt; returns the seconds until the next attempt may be made (0: at once). */
  async failed(address: string, email: string): Promise<number> {
    const [ip, account] = await Promise.all([consume(this.byIp, address), consume(this.byAccount, email)])
    const failures = account.consumedPoints
    let waitMs = ip.consumedPoints >= this.limits.maxFailuresPerIp ? ip.msBeforeNext : 0
    if (failures >= this.limits.maxFailuresPerAccount) {
      await this.byAccount.block(email, this.limits.lockoutSeconds)
      waitMs = Math.max(waitMs, this.limits.lockoutSeconds * 1000)
    } else if (failures >= this.limits.slowdownAfter) {
      const seconds = Math.min(MAX_SLOWDOWN_SECONDS, 2 ** (failures - this.limits.slowdownAfter))
      await this.slowDown.block(email, seconds)
      waitMs = Math.max(waitMs, seconds * 1000)
    }
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0
  }

  /** A correct password ends the account's run of failures (the address's count stays). */
  async succeeded(email: string): Promise<void> {
    await Promise.all([this.byAccount.delete(email), this.slowDown.delete(email)])
  }
}

/** consume() rejects with the RateLimiterRes once points run out; here that is just the count. */
async function consume(limiter: RateLimiterAbstract, key: string): Promise<RateLimiterRes> {
  try {
    return await limiter.consume(key)
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return rejection
    throw rejection
  }
}

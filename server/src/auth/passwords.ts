import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import pLimit, { type LimitFunction } from 'p-limit'

// scrypt is Node's built-in memory-hard KDF; no native addon to build.
const PARAMS = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const
const KEY_LENGTH = 32

/**
 * Hashes and verifies passwords with scrypt, at most `concurrency` at once.
 *
 * Why the bound: each scrypt call occupies one of libuv's threads (4 by
 * default) for ~50-100 ms, and the same pool serves every asynchronous file
 * read of the static admin and DNS lookups. Unbounded, 40 parallel logins
 * queue 40 scrypt jobs ahead of every `GET /` (measured: `GET /` p50 2.3 s).
 * With two at a time two threads stay free and logins wait in this queue
 * instead, which also caps the CPU a login flood can take; on two cores two
 * at once check as many passwords per second as unbounded (`npm run bench
 * logins`).
 */
export class PasswordHasher {
  private readonly limit: LimitFunction

  constructor(options: { concurrency?: number } = {}) {
    this.limit = pLimit(Math.max(1, options.concurrency ?? 2))
  }

  /** Jobs waiting for a free slot (not counting the running ones). */
  get waiting(): number {
    return this.limit.pendingCount
  }

  /** `scrypt$N$r$p$salt$hash`, parameters kept with the hash so they can be raised later. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16)
    const key = await this.derive(password, salt, PARAMS)
    return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$')
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, n, r, p, salt, hash] = stored.split('$')
    if (scheme !== 'scrypt' || !hash) return false
    const expected = Buffer.from(hash, 'base64url')
    const key = await this.derive(password, Buffer.from(salt, 'base64url'), {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: PARAMS.maxmem,
    })
    return key.length === expected.length && timingSafeEqual(key, expected)
  }

  private derive(password: string, salt: Buffer, params: ScryptOptions): Promise<Buffer> {
    return this.limit(
      () => new Promise<Buffer>((resolve, reject) => scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, params, (error, key) => (error ? reject(error) : resolve(key)))),
    )
  }
}

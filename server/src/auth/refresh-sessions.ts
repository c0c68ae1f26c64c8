import { createHash, randomBytes } from 'node:crypto'
import { USER_ACCESS_CHANNEL, type Database, type Queryable } from '@botsync/persistence'

/** A refresh token just issued: the cookie's value, never stored. */
export interface IssuedRefresh {
  token: string
  family: string
  /** Milliseconds since the epoch. */
  expiresAt: number
}

/**
 * What presenting a refresh token came to:
 * - `rotated`: it was current; `next` replaces it (same family, a fresh expiry);
 * - `raced`: it was rotated less than the grace period ago, by another
 *   request with the same cookie (two tabs refreshing at once): nothing
 *   is issued or revoked; the caller retries with the cookie the browser holds now;
 * - `reused`: it was rotated longer ago: a copy of an old token, so it was
 *   stolen (or the browser lost the new one): the whole family is revoked;
 * - `revoked`: logged out, logged out everywhere, or its user removed (the
 *   row is gone then: unknown tokens count as revoked);
 * - `expired`: past REFRESH_TTL_SECONDS since it was issued.
 */
export type RotateOutcome = { outcome: 'rotated'; userId: string; next: IssuedRefresh } | { outcome: 'raced' | 'reused' | 'revoked' | 'expired' }

/**
 * Seconds a rotated token is answered with `raced` rather than treated as
 * reuse. Long enough for a slow response to reach the browser's cookie jar
 * while the other tab's request is in flight; short enough that a thief
 * replaying an old cookie is caught.
 */
export const ROTATION_GRACE_SECONDS = 10

/**
 * Refresh tokens of admin sessions, in the `sessions` table (migration 6).
 * The token is 32 random bytes (base64url) in an HttpOnly cookie; the
 * database holds only its sha256, so a leaked table grants nothing.
 *
 * **Rotation.** Each use replaces the token. Rotation is one conditional
 * `UPDATE … WHERE rotated_at IS NULL AND revoked_at IS NULL AND expires_at >
 * now() RETURNING`: of two requests presenting the same token at once
 * (two tabs of one browser share the cookie), exactly one wins, whatever
 * the instance. The loser must not log the user out, and must not be
 * mistaken for a thief either: within ROTATION_GRACE_SECONDS of the
 * rotation it gets `raced` (HTTP 409 `refresh-raced`) and nothing changes.
 * By the time it retries, the winner's Set-Cookie is in the shared jar, so
 * the retry presents the new token and rotates it in turn. Answering the
 * loser with the winner's successor instead would mean keeping tokens in a
 * form that can be handed out again; the 409 keeps the database hash-only.
 *
 * **Reuse detection.** A rotated token presented after the grace is a copy:
 * either the thief or the rightful browser holds a token that the other
 * already used. Which is which is unknowable, so the family (every token
 * descended from that login) is revoked and both must log in again.
 *
 * **Expiry.** Each rotation gives the new token a full REFRESH_TTL_SECONDS
 * from now: a session lasts as long as it is used at least once per TTL.
 *
 * **Access tokens.** revoke (one logout) ends refreshes only: that login's
 * access token stays valid until its `exp` (JWT_TTL_SECONDS), and LiveAccess
 * turns a connection read-only at that moment. revokeAll also sets
 * users.tokens_valid_after, so every access token of the user issued before
 * it is refused at once (`session-revoked`, Authenticator.identifyAdmin).
 *
 * **Live connections.** revokeAll also
 * NOTIFYs USER_ACCESS_CHANNEL with `{id, sessions: 'revoked'}` so every
 * instance closes the user's sockets at once (4403 `session-revoked`); the admin then tries to
 * refresh, fails, and shows the login page.
 */
export class RefreshSessions {
  private readonly db: Database
  readonly ttlSeconds: number

  constructor(db: Database, ttlSeconds: number) {
    this.db = db
    this.ttlSeconds = ttlSeconds
  }

  /** A new session (a login): a new family. */
  async issue(userId: string): Promise<IssuedRefresh> {
    return this.db.transaction(async (tx) => {
      // Expired rows of this user are of no use any more (not even for reuse detection).
      await tx.query('DELETE FROM sessions WHERE user_id = $1 AND expires_at < now()', [userId])
      return this.insert(tx, userId, randomBytes(16).toString('base64url'))
    })
  }

  /** Presents a refresh token: see RotateOutcome. */
  async rotate(token: string): Promise<RotateOutcome> {
    const hash = digest(token)
    return this.db.transaction(async (tx): Promise<RotateOutcome> => {
      const [won] = await tx.query<{ user_id: string | number; family: string }>(
        `UPDATE sessions SET rotated_at = now(), last_used_at = now()
          WHERE token_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING user_id, family`,
        [hash],
      )
      if (won) {
        // A family gets a row per rotation; those past their expiry can no longer be presented, reuse or not.
        await tx.query('DELETE FROM sessions WHERE family = $1 AND expires_at < now()', [won.family])
        return { outcome: 'rotated', userId: String(won.user_id), next: await this.insert(tx, String(won.user_id), won.family) }
      }
      const [row] = await tx.query<{ family: string; revoked: boolean; expired: boolean; rotated: boolean; within_grace: boolean }>(
        `SELECT family, revoked_at IS NOT NULL AS revoked, expires_at <= now() AS expired, rotated_at IS NOT NULL AS rotated,
                coalesce(rotated_at > now() - make_interval(secs => $2), false) AS within_grace
           FROM sessions WHERE token_hash = $1`,
        [hash, ROTATION_GRACE_SECONDS],
      )
      if (!row || row.revoked) return { outcome: 'revoked' }
      if (row.expired) return { outcome: 'expired' }
      if (row.rotated && row.within_grace) return { outcome: 'raced' }
      await tx.query('UPDATE sessions SET revoked_at = now() WHERE family = $1 AND revoked_at IS NULL', [row.family])
      return { outcome: 'reused' }
    })
  }

  /** Logout: the family of this token (every token of that login) is revoked. False if the token is unknown. */
  async revoke(token: string): Promise<boolean> {
    const rows = await this.db.query<{ family: string }>(
      `UPDATE sessions SET revoked_at = now()
        WHERE family = (SELECT family FROM sessions WHERE token_hash = $1) AND revoked_at IS NULL
        RETURNING family`,
      [digest(token)],
    )
    return rows.length > 0
  }

  /**
   * Log out everywhere (also what a password change calls): every session of
   * the user is revoked, and every instance closes the user's sockets. The
   * number of tokens revoked.
   */
  async revokeAll(userId: string): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<{ id: string }>('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL RETURNING id', [userId])
      // Access tokens issued before this are refused from the commit on (Authenticator.identifyAdmin).
      // Milliseconds, as the tokens' iat_ms: now() has microseconds, a Date reads back milliseconds.
      // iat_ms is the issuing instance's clock, this the database's: were they apart, a login within
      // that skew after this could be refused too, and the admin's refresh (its new cookie is valid)
      // would fetch a token that is not.
      await tx.query(`UPDATE users SET tokens_valid_after = date_trunc('milliseconds', now()) WHERE id = $1`, [userId])
      // Delivered at COMMIT, so no instance acts on a revocation that rolled back.
      await tx.query('SELECT pg_notify($1, $2)', [USER_ACCESS_CHANNEL, JSON.stringify({ id: userId, sessions: 'revoked' })])
      return rows.length
    })
  }

  private async insert(tx: Queryable, userId: string, family: string): Promise<IssuedRefresh> {
    const token = randomBytes(32).toString('base64url')
    const [row] = await tx.query<{ expires_at: Date | string }>(
      `INSERT INTO sessions (user_id, family, token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
       RETURNING expires_at`,
      [userId, family, digest(token), this.ttlSeconds],
    )
    return { token, family, expiresAt: new Date(row.expires_at).getTime() }
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

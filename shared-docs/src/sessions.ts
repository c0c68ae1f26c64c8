/**
 * The wire shapes of admin sessions (server/src/http/session-routes.ts and
 * the admin's auth state): the header that proves a cookie-only request
 * comes from the admin's own scripts, and the refusals of POST /api/refresh.
 */

/**
 * Sent with `1` on POST /api/refresh and /api/logout. Those take the
 * refresh cookie alone, so another site must not be able to send them: a
 * custom header makes a cross-origin request need a CORS preflight, which
 * the server never grants (SameSite=Strict already keeps the cookie off
 * cross-site requests; this covers same-site origins and old browsers).
 */
export const SESSION_HEADER = 'x-botsync'

export const SESSION_ERRORS = {
  /** No refresh cookie, or one past REFRESH_TTL_SECONDS: log in again. */
  expired: 'session-expired',
  /**
   * Logged out (here or everywhere), the user removed, or an old token reused
   * (theft): log in again. Also the close reason (code 4403) of the user's
   * sockets when every session is revoked: the admin refreshes, which fails.
   */
  revoked: 'session-revoked',
  /** Another tab rotated this same cookie a moment ago: retry once the browser holds the new cookie. */
  raced: 'refresh-raced',
  /** POST /api/refresh or /api/logout without SESSION_HEADER. */
  csrf: 'csrf-header-missing',
} as const

export type SessionError = (typeof SESSION_ERRORS)[keyof typeof SESSION_ERRORS]

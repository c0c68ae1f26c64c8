import type { IncomingMessage, ServerResponse } from 'node:http'
import { SESSION_ERRORS, SESSION_HEADER } from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { LoginLimiter } from '../auth/login-limiter.ts'
import type { SpaceMembers } from '../auth/space-members.ts'
import type { RefreshSessions } from '../auth/refresh-sessions.ts'
import type { TokenIssuer } from '../auth/token-issuer.ts'
import { normaliseEmail, type User, type UserRepository } from '../auth/user-repository.ts'
import type { Logger } from '../logger.ts'
import type { ConnectionLimits } from './connection-limits.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'

/** The refresh token's cookie. Path=/api: sent to the API only, never with the admin's files or the WebSockets. */
export const REFRESH_COOKIE = 'botsync_refresh'
const COOKIE_PATH = '/api'

/** 429 with Retry-After: a login refused before its password was even checked. */
export class TooManyAttempts extends Error {
  readonly retryAfter: number
  constructor(retryAfter: number) {
    super(`too many failed logins; try again in ${retryAfter} s`)
    this.retryAfter = retryAfter
  }
}

export interface SessionRoutesDeps {
  users: UserRepository
  tokens: TokenIssuer
  authenticator: Authenticator
  sessions: RefreshSessions
  loginLimiter: LoginLimiter
  /** The client's address (for the login limiter) and whether it came over https (the cookie's Secure). */
  limits: Pick<ConnectionLimits, 'clientAddress' | 'isHttps'>
  /** GET /api/me lists them: the caller's spaces and roles. */
  members: Pick<SpaceMembers, 'spacesOf'>
  log: Logger
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void>

export interface SessionAnswer {
  token: string
  expiresAt: number
  user: User
}

/**
 * An admin's session: POST /api/login (password → short access JWT + refresh
 * cookie), POST /api/refresh (cookie → new JWT + rotated cookie), POST
 * /api/logout (this session), POST /api/logout-all (Bearer: every session
 * of the user), GET /api/me. See auth/refresh-sessions.ts for rotation,
 * reuse detection and the race between two tabs.
 *
 * CSRF: /api/refresh and /api/logout act on the cookie alone, so they also
 * require the SESSION_HEADER; a cross-origin page cannot add a custom
 * header without a CORS preflight the server never grants. /api/login needs
 * `Content-Type: application/json`, which a cross-site form cannot send
 * either; /api/logout-all takes a Bearer token, which browsers never add
 * on their own.
 */
export class SessionRoutes {
  private readonly deps: SessionRoutesDeps
  readonly routes: Record<string, Handler>

  constructor(deps: SessionRoutesDeps) {
    this.deps = deps
    this.routes = {
      'POST /api/login': this.login,
      'POST /api/refresh': this.refresh,
      'POST /api/logout': this.logout,
      'POST /api/logout-all': this.logoutAll,
      'GET /api/me': this.me,
    }
  }

  /**
   * The body of a login (also for the invite and reset pages once they log
   * a user in) with the refresh cookie of a new session set on `response`.
   */
  async startSession(request: IncomingMessage, response: ServerResponse, user: User): Promise<SessionAnswer> {
    const refresh = await this.deps.sessions.issue(user.id)
    this.setCookie(request, response, refresh.token)
    return this.accessToken(user)
  }

  private login: Handler = async (request, response) => {
    const body = (await readJson(request, 16 * 1024)) as { email?: unknown; password?: unknown } | null
    if (typeof body?.email !== 'string' || typeof body.password !== 'string') {
      throw new HttpError(400, 'invalid-request', 'send {"email": string, "password": string}')
    }
    const address = this.deps.limits.clientAddress(request)
    // The same key for existing and unknown emails: the limiter must not tell them apart.
    const account = normaliseEmail(body.email).slice(0, 320)
    const waitSeconds = await this.deps.loginLimiter.retryAfter(address, account)
    if (waitSeconds > 0) {
      this.deps.log.info({ event: 'login-limited', email: account.slice(0, 200), address, retryAfter: waitSeconds })
      throw new TooManyAttempts(waitSeconds)
    }
    const user = await this.deps.users.authenticate(body.email, body.password)
    if (!user) {
      const retryAfter = await this.deps.loginLimiter.failed(address, account)
      this.deps.log.info({ event: 'login-refused', email: account.slice(0, 200), address, ...(retryAfter ? { retryAfter } : {}) })
      throw new HttpError(401, 'invalid-credentials', 'wrong email or password')
    }
    await this.deps.loginLimiter.succeeded(account)
    void this.deps.users.touch(user.id).catch((error) => this.deps.log.warn({ event: 'last-seen-failed', user: user.id, err: error }))
    sendJson(response, 200, await this.startSession(request, response, user))
  }

  /**
   * The refresh cookie for a new access token (and a rotated cookie). The
   * user is re-read, so a changed name arrives with the new token;
   * a removed user's sessions went with the row (ON DELETE CASCADE).
   */
  private refresh: Handler = async (request, response) => {
    this.requireSessionHeader(request)
    const presented = this.cookie(request)
    if (!presented) throw this.ended(response, 'expired', 'no session cookie: log in')
    const result = await this.deps.sessions.rotate(presented)
    switch (result.outcome) {
      case 'raced':
        // The cookie is left alone: the browser already holds (or is about to get) its successor.
        throw new HttpError(409, SESSION_ERRORS.raced, 'another request renewed this session a moment ago; retry')
      case 'expired':
        throw this.ended(response, 'expired', 'the session has expired: log in again')
      case 'revoked':
        throw this.ended(response, 'revoked', 'the session was ended (logged out, or the user was removed): log in again')
      case 'reused':
        this.deps.log.warn({ event: 'refresh-token-reused', address: this.deps.limits.clientAddress(request) }, 'an old refresh token was presented again; its session is revoked')
        throw this.ended(response, 'revoked', 'this session token was already used, so it may have been copied: the session is ended everywhere it was used; log in again')
    }
    const user = await this.deps.users.findById(result.userId)
    if (!user) throw this.ended(response, 'revoked', 'the user of this session no longer exists')
    this.setCookie(request, response, result.next.token)
    sendJson(response, 200, await this.accessToken(user))
  }

  /** Ends this browser's session (its whole family); 204 even without a (valid) cookie: the outcome is the same. */
  private logout: Handler = async (request, response) => {
    this.requireSessionHeader(request)
    const presented = this.cookie(request)
    if (presented) await this.deps.sessions.revoke(presented)
    this.clearCookie(request, response)
    noContent(response)
  }

  /** Every session of the access token's user, on every device; their sockets are closed too (see RefreshSessions.revokeAll). */
  private logoutAll: Handler = async (request, response) => {
    const principal = await this.deps.authenticator.identify(requestToken(request))
    if (principal.kind !== 'admin') throw new HttpError(403, 'not-an-admin', 'only admins have sessions')
    const revoked = await this.deps.sessions.revokeAll(principal.userId)
    this.deps.log.info({ event: 'logout-all', user: principal.userId, revoked })
    this.clearCookie(request, response)
    noContent(response)
  }

  /** Every session of the user ends (a password reset); their sockets are closed too. */
  endAllSessions(userId: string): Promise<number> {
    return this.deps.sessions.revokeAll(userId)
  }

  /** Who the token belongs to now: admins are re-read from the database (401 `user-not-found` once deleted), with their spaces and roles. */
  private me: Handler = async (request, response) => {
    const principal = await this.deps.authenticator.identify(requestToken(request))
    const spaces = principal.kind === 'admin' ? await this.deps.members.spacesOf(principal.userId) : []
    sendJson(response, 200, { principal, spaces })
  }

  private async accessToken(user: User): Promise<SessionAnswer> {
    const { token, expiresAt } = await this.deps.tokens.issue({ userId: user.id, email: user.email, name: user.name })
    return { token, expiresAt, user: { id: user.id, email: user.email, name: user.name } }
  }

  private requireSessionHeader(request: IncomingMessage): void {
    if (request.headers[SESSION_HEADER] !== '1') {
      throw new HttpError(403, SESSION_ERRORS.csrf, `send the header ${SESSION_HEADER}: 1 (cookie-only requests must come from the admin's own scripts)`)
    }
  }

  /** 401 that also clears the cookie: the browser stops sending a token that will never work again. */
  private ended(response: ServerResponse, why: 'expired' | 'revoked', message: string): HttpError {
    this.clearCookie(response.req, response)
    return new HttpError(401, SESSION_ERRORS[why], message)
  }

  private cookie(request: IncomingMessage): string | null {
    for (const part of (request.headers.cookie ?? '').split(';')) {
      const at = part.indexOf('=')
      if (at > 0 && part.slice(0, at).trim() === REFRESH_COOKIE) {
        const value = part.slice(at + 1).trim()
        return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null
      }
    }
    return null
  }

  private setCookie(request: IncomingMessage, response: ServerResponse, token: string): void {
    response.setHeader('set-cookie', this.cookieHeader(request, token, this.deps.sessions.ttlSeconds))
  }

  private clearCookie(request: IncomingMessage, response: ServerResponse): void {
    response.setHeader('set-cookie', this.cookieHeader(request, '', 0))
  }

  private cookieHeader(request: IncomingMessage, value: string, maxAge: number): string {
    const secure = this.deps.limits.isHttps(request) ? '; Secure' : ''
    return `${REFRESH_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`
  }
}

function noContent(response: ServerResponse): void {
  response.writeHead(204, { 'cache-control': 'no-store' })
  response.end()
}

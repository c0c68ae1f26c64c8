import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { AccessDenied, type Principal } from './roles.ts'

/** The custom claim of the issue time in milliseconds. */
const ISSUED_AT_MS = 'iat_ms'

export interface TokenSubject {
  userId: string
  email: string
  name: string
}

/** Short-lived HS256 JWTs for admin users: who they are, not what they may do (that is per space, read from the database). */
export class TokenIssuer {
  private readonly key: Uint8Array
  private readonly ttlSeconds: number

  constructor(secret: string, ttlSeconds: number) {
    this.key = new TextEncoder().encode(secret)
    this.ttlSeconds = ttlSeconds
  }

  async issue(subject: TokenSubject): Promise<{ token: string; expiresAt: number }> {
    const now = Date.now()
    const expiresAt = Math.floor(now / 1000) + this.ttlSeconds
    // `iat_ms`: the issue time in milliseconds (`iat` is whole seconds), so a
    // token issued just after a log-out-everywhere, in the same second, is
    // told apart from the ones issued before it (see issuedAt in verify).
    const token = await new SignJWT({ email: subject.email, name: subject.name, [ISSUED_AT_MS]: now })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject.userId)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(expiresAt)
      .setIssuer('botsync')
      .sign(this.key)
    return { token, expiresAt: expiresAt * 1000 }
  }

  /** The admin the token names, and `issuedAt`: when it was issued (ms), for Authenticator.identifyAdmin's revocation check. */
  async verify(token: string): Promise<Extract<Principal, { kind: 'admin' }> & { issuedAt: number }> {
    let payload
    try {
      ;({ payload } = await jwtVerify(token, this.key, { issuer: 'botsync', algorithms: ['HS256'] }))
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new AccessDenied('token-expired', 'the session token has expired; log in again')
      throw new AccessDenied('invalid-token', 'the token is not a valid botsync token')
    }
    // Roles are per space and read from space_members on every check: a token carries none.
    return {
      kind: 'admin',
      userId: String(payload.sub),
      email: String(payload.email),
      name: String(payload.name ?? payload.email),
      expiresAt: Number(payload.exp) * 1000,
      issuedAt: issuedAt(payload),
    }
  }
}

/**
 * When a token was issued, in ms: its `iat_ms`; a token without one (issued
 * before the claim existed) counts from the start of its `iat` second, the
 * earliest it can have been issued, so a revocation in that second refuses it.
 * No `iat` at all: 0, issued before any revocation.
 */
function issuedAt(payload: JWTPayload): number {
  const ms = payload[ISSUED_AT_MS]
  if (typeof ms === 'number' && Number.isFinite(ms)) return ms
  return typeof payload.iat === 'number' ? payload.iat * 1000 : 0
}

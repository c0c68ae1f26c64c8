import { errors, jwtVerify, SignJWT } from 'jose'
import { AccessDenied, type Principal } from './roles.ts'

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
    const expiresAt = Math.floor(Date.now() / 1000) + this.ttlSeconds
    const token = await new SignJWT({ email: subject.email, name: subject.name })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject.userId)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .setIssuer('botsync')
      .sign(this.key)
    return { token, expiresAt: expiresAt * 1000 }
  }

  async verify(token: string): Promise<Extract<Principal, { kind: 'admin' }>> {
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
    }
  }
}

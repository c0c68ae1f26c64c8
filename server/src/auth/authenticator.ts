import { timingSafeEqual, createHash } from 'node:crypto'
import { parseDocumentName } from '@botsync/shared-docs'
import { AccessDenied, type Principal } from './roles.ts'
import type { TokenIssuer } from './token-issuer.ts'

export interface DocumentAccess {
  principal: Principal
  space: string
  readOnly: boolean
}

/**
 * Decides who a token belongs to and what they may do with a document.
 * This is the single place where access is granted.
 */
export class Authenticator {
  private readonly tokens: TokenIssuer
  private readonly botTokenDigest: Buffer
  private readonly botSpace: string

  constructor(options: { tokens: TokenIssuer; botServiceToken: string; botSpace: string }) {
    this.tokens = options.tokens
    this.botTokenDigest = digest(options.botServiceToken)
    this.botSpace = options.botSpace
  }

  async identify(token: string | undefined | null): Promise<Principal> {
    if (!token) throw new AccessDenied('missing-token', 'no token was sent')
    // Compare digests so the comparison is constant-time whatever the length.
    if (timingSafeEqual(digest(token), this.botTokenDigest)) return { kind: 'bot', role: 'bot', space: this.botSpace }
    return this.tokens.verify(token)
  }

  async authorizeDocument(token: string | undefined | null, documentName: string): Promise<DocumentAccess> {
    const parsed = parseDocumentName(documentName)
    if (!parsed) {
      throw new AccessDenied('unknown-document', `"${documentName.slice(0, 200)}" is not a botsync document name`)
    }
    const principal = await this.identify(token)
    if (principal.kind === 'bot') {
      if (parsed.space !== principal.space) {
        throw new AccessDenied('forbidden-space', `the bot may only read space "${principal.space}"`)
      }
      return { principal, space: parsed.space, readOnly: true }
    }
    // The activity document is written by the server only.
    const readOnly = principal.role === 'viewer' || parsed.kind === 'activity'
    return { principal, space: parsed.space, readOnly }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

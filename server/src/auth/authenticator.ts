import { timingSafeEqual, createHash } from 'node:crypto'
import { parseDocumentName } from '@botsync/shared-docs'
import { AccessDenied, type Principal } from './roles.ts'
import { initDataFromToken, type TelegramInitData } from './telegram-init-data.ts'
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
  /** null when TELEGRAM_BOT_TOKEN is not set: no Mini App readers then. */
  private readonly initData: TelegramInitData | null

  constructor(options: { tokens: TokenIssuer; botServiceToken: string; botSpace: string; initData?: TelegramInitData | null }) {
    this.tokens = options.tokens
    this.botTokenDigest = digest(options.botServiceToken)
    this.botSpace = options.botSpace
    this.initData = options.initData ?? null
  }

  async identify(token: string | undefined | null): Promise<Principal> {
    if (!token) throw new AccessDenied('missing-token', 'no token was sent')
    // Compare digests so the comparison is constant-time whatever the length.
    if (timingSafeEqual(digest(token), this.botTokenDigest)) return { kind: 'bot', role: 'bot', space: this.botSpace }
    const initData = initDataFromToken(token)
    if (initData !== null) return this.identifyReader(initData)
    return this.tokens.verify(token)
  }

  /** Mini App readers read the bot's space: the initData is signed with that bot's token. */
  private identifyReader(initData: string): Principal {
    if (!this.initData) throw new AccessDenied('miniapp-disabled', 'TELEGRAM_BOT_TOKEN is not set, so Mini App readers cannot be verified')
    const reader = this.initData.validate(initData)
    return { kind: 'reader', role: 'reader', space: this.botSpace, telegramUserId: reader.userId, name: reader.firstName }
  }

  async authorizeDocument(token: string | undefined | null, documentName: string): Promise<DocumentAccess> {
    const parsed = parseDocumentName(documentName)
    if (!parsed) {
      throw new AccessDenied('unknown-document', `"${documentName.slice(0, 200)}" is not a botsync document name`)
    }
    const principal = await this.identify(token)
    if (principal.kind === 'reader') {
      // Readers are untrusted and many: the one server-written document of
      // public content, nothing else.
      if (parsed.kind !== 'public' || parsed.space !== principal.space) {
        throw new AccessDenied('forbidden-document', `Mini App readers may only read "${principal.space}/public"`)
      }
      return { principal, space: parsed.space, readOnly: true }
    }
    if (principal.kind === 'bot') {
      if (parsed.space !== principal.space) {
        throw new AccessDenied('forbidden-space', `the bot may only read space "${principal.space}"`)
      }
      return { principal, space: parsed.space, readOnly: true }
    }
    // The activity and public documents are written by the server only.
    const readOnly = principal.role === 'viewer' || parsed.kind === 'activity' || parsed.kind === 'public'
    return { principal, space: parsed.space, readOnly }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

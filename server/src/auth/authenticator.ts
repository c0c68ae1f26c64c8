import { timingSafeEqual, createHash } from 'node:crypto'
import { isValidSpace, parseDocumentName, roleRank, SESSION_ERRORS } from '@botsync/shared-docs'
import { parseSpaceServiceToken, spaceServiceMac } from './bot-service-tokens.ts'
import { AccessDenied, type AdminRole, type Principal } from './roles.ts'
import type { SpaceMembers } from './space-members.ts'
import type { Spaces } from './spaces.ts'
import { initDataFromToken, TelegramInitData } from './telegram-init-data.ts'
import type { TokenIssuer } from './token-issuer.ts'
import type { UserRepository } from './user-repository.ts'

export interface DocumentAccess {
  principal: Principal
  space: string
  /** An admin's role in this space, or the bot's / reader's kind. */
  role: AdminRole | 'bot' | 'reader'
  readOnly: boolean
  /** The space is being deleted: read-only for everyone (notice `space-deleting`). */
  spaceDeleting: boolean
}

type AdminPrincipal = Extract<Principal, { kind: 'admin' }>

/**
 * Decides who a token belongs to and what they may do with a document.
 * This is the single place where access is granted.
 */
export class Authenticator {
  private readonly tokens: TokenIssuer
  private readonly users: UserRepository
  private readonly spaces: Spaces
  private readonly members: SpaceMembers
  private readonly botServiceToken: string
  private readonly botTokenDigest: Buffer
  private readonly botSpace: string
  /** The Telegram bot token of a space's bot (stored in space_bots, or the bootstrap TELEGRAM_BOT_TOKEN for BOT_SPACE); undefined: no bot, no readers. */
  private readonly telegramTokenOf: (space: string) => string | undefined
  private readonly miniAppMaxAgeSeconds: number
  /** One validator per bot token in use (a token's HMAC key is derived once). */
  private readonly validators = new Map<string, TelegramInitData>()

  constructor(options: {
    tokens: TokenIssuer
    users: UserRepository
    spaces: Spaces
    members: SpaceMembers
    botServiceToken: string
    botSpace: string
    telegramTokenOf?: (space: string) => string | undefined
    miniAppMaxAgeSeconds?: number
  }) {
    this.tokens = options.tokens
    this.users = options.users
    this.spaces = options.spaces
    this.members = options.members
    this.botServiceToken = options.botServiceToken
    this.botTokenDigest = digest(options.botServiceToken)
    this.botSpace = options.botSpace
    this.telegramTokenOf = options.telegramTokenOf ?? (() => undefined)
    this.miniAppMaxAgeSeconds = options.miniAppMaxAgeSeconds ?? 86_400
  }

  /** `readerSpace`: the space a Mini App reader's initData is checked for (the page's ?space=); default BOT_SPACE. */
  async identify(token: string | undefined | null, readerSpace: string = this.botSpace): Promise<Principal> {
    if (!token) throw new AccessDenied('missing-token', 'no token was sent')
    // Compare digests so the comparison is constant-time whatever the length.
    if (timingSafeEqual(digest(token), this.botTokenDigest)) return { kind: 'bot', role: 'bot', space: this.botSpace }
    const spaceBot = parseSpaceServiceToken(token)
    if (spaceBot !== null) return this.identifySpaceBot(spaceBot)
    const initData = initDataFromToken(token)
    if (initData !== null) return this.identifyReader(initData, readerSpace)
    return this.identifyAdmin(token)
  }

  /** A supervised bot's `bot.<space>.<mac>` token: read-only access to that space, nothing else. */
  private identifySpaceBot({ space, mac }: { space: string; mac: string }): Extract<Principal, { kind: 'bot' }> {
    if (!isValidSpace(space) || !timingSafeEqual(digest(mac), digest(spaceServiceMac(this.botServiceToken, space)))) {
      throw new AccessDenied('invalid-token', 'this bot token was not issued by this deployment')
    }
    return { kind: 'bot', role: 'bot', space }
  }

  /**
   * A valid JWT is not enough: the user must still exist, and the token must
   * not predate their last log out everywhere or password reset
   * (users.tokens_valid_after, set by RefreshSessions.revokeAll):
   * `session-revoked`, so a stolen access token stops working at once rather
   * than at its `exp`. The comparison is in milliseconds (the token's
   * `iat_ms`, TokenIssuer): a login in the same second right after the
   * revocation (the reset page's own) still works, a token from earlier in
   * that second does not. A token names who, never a role: roles are per
   * space, read from space_members on every check, so a change counts from
   * the next request on.
   */
  async identifyAdmin(token: string): Promise<AdminPrincipal> {
    const { issuedAt, ...claimed } = await this.tokens.verify(token)
    const user = await this.users.findById(claimed.userId)
    if (!user) throw new AccessDenied('user-not-found', 'the user of this token no longer exists')
    if (user.tokensValidAfter !== null && issuedAt < user.tokensValidAfter) {
      throw new AccessDenied(SESSION_ERRORS.revoked, 'this token was issued before the user logged out everywhere (or reset the password): log in again')
    }
    return { ...claimed, email: user.email, name: user.name }
  }

  /**
   * The admin of `token` and their role in `space`, at least `minimum`:
   * `unknown-space` (HTTP 404), `forbidden-space` (not a member, 403),
   * `not-an-owner` / `read-only` (403: a lower role). Every
   * /api/spaces/:space/… route goes through here.
   */
  async requireSpaceRole(token: string | undefined | null, space: string, minimum: AdminRole): Promise<{ principal: AdminPrincipal; role: AdminRole; deletingAt: number | null }> {
    const principal = await this.identify(token)
    if (principal.kind !== 'admin') throw new AccessDenied('not-an-admin', 'only admin session tokens may do this')
    return this.checkRole(principal, space, minimum)
  }

  /**
   * Reading a space's files (GET /api/spaces/:space/media/…): its members,
   * as requireSpaceRole(…, 'viewer'), and the space's own bot (its
   * BOT_SERVICE_TOKEN or `bot.<space>.<mac>` token), which sends them to
   * Telegram; another space's bot gets `forbidden-space`.
   */
  async requireSpaceReader(token: string | undefined | null, space: string): Promise<Principal> {
    const principal = await this.identify(token)
    if (principal.kind === 'bot') {
      if (principal.space !== space) throw new AccessDenied('forbidden-space', `the bot may only read space "${principal.space}"`)
      return principal
    }
    if (principal.kind !== 'admin') throw new AccessDenied('not-an-admin', "only admin session tokens and the space's bot may do this")
    await this.checkRole(principal, space, 'viewer')
    return principal
  }

  private async checkRole(principal: AdminPrincipal, space: string, minimum: AdminRole): Promise<{ principal: AdminPrincipal; role: AdminRole; deletingAt: number | null }> {
    const access = await this.members.access(space, principal.userId)
    if (!access.exists) throw new AccessDenied('unknown-space', `there is no space "${space.slice(0, 100)}"`)
    if (access.role === null) throw new AccessDenied('forbidden-space', `you are not a member of space "${space}"`)
    if (roleRank(access.role) < roleRank(minimum)) {
      throw new AccessDenied(
        minimum === 'owner' ? 'not-an-owner' : 'read-only',
        `this needs the ${minimum} role in "${space}"; you are ${access.role === 'editor' ? 'an' : 'a'} ${access.role}`,
      )
    }
    return { principal, role: access.role, deletingAt: access.deletingAt }
  }

  /**
   * Mini App readers of a space: the initData must be signed with THAT
   * space's bot token (stored, or the bootstrap one for BOT_SPACE); a space
   * without a bot has no readers (`miniapp-disabled`), and launch data of
   * another space's bot does not verify.
   */
  private identifyReader(initData: string, space: string): Extract<Principal, { kind: 'reader' }> {
    const validator = this.validatorFor(space)
    if (!validator) throw new AccessDenied('miniapp-disabled', `space "${space.slice(0, 100)}" has no Telegram bot, so its Mini App readers cannot be verified`)
    const reader = validator.validate(initData)
    return { kind: 'reader', role: 'reader', space, telegramUserId: reader.userId, name: reader.firstName }
  }

  private validatorFor(space: string): TelegramInitData | null {
    const token = this.telegramTokenOf(space)
    if (!token) return null
    let validator = this.validators.get(token)
    if (!validator) {
      // Tokens change rarely; a few stale entries are dropped wholesale.
      if (this.validators.size > 1000) this.validators.clear()
      this.validators.set(token, (validator = new TelegramInitData(token, this.miniAppMaxAgeSeconds)))
    }
    return validator
  }

  /**
   * A Mini App reader on the reader gateway (/readers): Telegram initData
   * only, and only a space's public document, read-only; the space is the
   * document's, and the initData must be its bot's.
   */
  async authorizeReader(token: string | undefined | null, documentName: string): Promise<DocumentAccess> {
    const parsed = botsyncDocument(documentName)
    if (!token) throw new AccessDenied('missing-token', 'no token was sent')
    const initData = initDataFromToken(token)
    if (initData === null) {
      throw new AccessDenied('not-a-reader', 'the readers endpoint takes Telegram Mini App initData; admins and the bot connect to /collab')
    }
    // Readers are untrusted and many: the one server-written document of
    // public content, nothing else.
    if (parsed.kind !== 'public') {
      throw new AccessDenied('forbidden-document', `Mini App readers may only read "${parsed.space}/public"`)
    }
    const principal = this.identifyReader(initData, parsed.space)
    return { principal, space: parsed.space, role: 'reader', readOnly: true, spaceDeleting: false }
  }

  /** Admins and the bot on /collab. Readers are sent to the reader gateway, their one way in. */
  async authorizeDocument(token: string | undefined | null, documentName: string): Promise<DocumentAccess> {
    const parsed = botsyncDocument(documentName)
    const principal = await this.identify(token)
    if (principal.kind === 'reader') {
      throw new AccessDenied('use-readers-endpoint', 'Mini App readers connect to /readers')
    }
    if (principal.kind === 'bot') {
      if (parsed.space !== principal.space) {
        throw new AccessDenied('forbidden-space', `the bot may only read space "${principal.space}"`)
      }
      const space = await this.spaces.get(parsed.space)
      if (!space) throw new AccessDenied('unknown-space', `there is no space "${parsed.space}"`)
      return { principal, space: parsed.space, role: 'bot', readOnly: true, spaceDeleting: space.deletingAt !== null }
    }
    const access = await this.members.access(parsed.space, principal.userId)
    return { principal, space: parsed.space, ...documentAccess(access, parsed.space, documentName) }
  }
}

/**
 * What a member's access to a document is, from one SpaceMembers.access
 * row: refused without the space or the membership; read-only for viewers,
 * the server-written documents, and while the space is being deleted.
 */
export function documentAccess(
  access: { exists: boolean; deletingAt: number | null; role: AdminRole | null },
  space: string,
  documentName: string,
): { role: AdminRole; readOnly: boolean; spaceDeleting: boolean } {
  if (!access.exists) throw new AccessDenied('unknown-space', `there is no space "${space}"`)
  if (access.role === null) throw new AccessDenied('forbidden-space', `you are not a member of space "${space}"`)
  const spaceDeleting = access.deletingAt !== null
  return { role: access.role, readOnly: spaceDeleting || adminReadOnly(access.role, documentName), spaceDeleting }
}

/** Whether an admin of this role only reads this document: the activity and public documents are written by the server only. */
export function adminReadOnly(role: AdminRole, documentName: string): boolean {
  const kind = parseDocumentName(documentName)?.kind
  return role === 'viewer' || kind === 'activity' || kind === 'public' || kind === 'published'
}

function botsyncDocument(documentName: string): NonNullable<ReturnType<typeof parseDocumentName>> {
  const parsed = parseDocumentName(documentName)
  if (!parsed) throw new AccessDenied('unknown-document', `"${documentName.slice(0, 200)}" is not a botsync document name`)
  return parsed
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

import { timingSafeEqual, createHash } from 'node:crypto'
import { parseDocumentName, roleRank } from '@botsync/shared-docs'
import { AccessDenied, type AdminRole, type Principal } from './roles.ts'
import type { SpaceMembers } from './space-members.ts'
import type { Spaces } from './spaces.ts'
import { initDataFromToken, type TelegramInitData } from './telegram-init-data.ts'
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
  private readonly botTokenDigest: Buffer
  private readonly botSpace: string
  /** null when TELEGRAM_BOT_TOKEN is not set: no Mini App readers then. */
  private readonly initData: TelegramInitData | null

  constructor(options: {
    tokens: TokenIssuer
    users: UserRepository
    spaces: Spaces
    members: SpaceMembers
    botServiceToken: string
    botSpace: string
    initData?: TelegramInitData | null
  }) {
    this.tokens = options.tokens
    this.users = options.users
    this.spaces = options.spaces
    this.members = options.members
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
    return this.identifyAdmin(token)
  }

  /**
   * A valid JWT is not enough: the user must still exist. A token names
   * who, never a role: roles are per space, read from space_members on
   * every check, so a change counts from the next request on.
   */
  async identifyAdmin(token: string): Promise<AdminPrincipal> {
    const claimed = await this.tokens.verify(token)
    const user = await this.users.findById(claimed.userId)
    if (!user) throw new AccessDenied('user-not-found', 'the user of this token no longer exists')
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

  /** Mini App readers read the bot's space: the initData is signed with that bot's token. */
  private identifyReader(initData: string): Extract<Principal, { kind: 'reader' }> {
    if (!this.initData) throw new AccessDenied('miniapp-disabled', 'TELEGRAM_BOT_TOKEN is not set, so Mini App readers cannot be verified')
    const reader = this.initData.validate(initData)
    return { kind: 'reader', role: 'reader', space: this.botSpace, telegramUserId: reader.userId, name: reader.firstName }
  }

  /**
   * A Mini App reader on the reader gateway (/readers): Telegram initData
   * only, and only the bot space's public document, read-only.
   */
  async authorizeReader(token: string | undefined | null, documentName: string): Promise<DocumentAccess> {
    const parsed = botsyncDocument(documentName)
    if (!token) throw new AccessDenied('missing-token', 'no token was sent')
    const initData = initDataFromToken(token)
    if (initData === null) {
      throw new AccessDenied('not-a-reader', 'the readers endpoint takes Telegram Mini App initData; admins and the bot connect to /collab')
    }
    const principal = this.identifyReader(initData)
    // Readers are untrusted and many: the one server-written document of
    // public content, nothing else.
    if (parsed.kind !== 'public' || parsed.space !== principal.space) {
      throw new AccessDenied('forbidden-document', `Mini App readers may only read "${principal.space}/public"`)
    }
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
  return role === 'viewer' || kind === 'activity' || kind === 'public'
}

function botsyncDocument(documentName: string): NonNullable<ReturnType<typeof parseDocumentName>> {
  const parsed = parseDocumentName(documentName)
  if (!parsed) throw new AccessDenied('unknown-document', `"${documentName.slice(0, 200)}" is not a botsync document name`)
  return parsed
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

import { SPACE_ROLES, isSpaceRole, type SpaceRole } from '@botsync/shared-docs'

/** A member's role in one space (roles are per space: space_members). */
export const ADMIN_ROLES = SPACE_ROLES
export type AdminRole = SpaceRole
export const isAdminRole = isSpaceRole

/** Who is on the other end of a connection or request. */
export type Principal =
  /** `email` and `name` are the user row's at the time of the check; `expiresAt` is the token's (ms). Roles are per space (DocumentAccess.role). */
  | { kind: 'admin'; userId: string; email: string; name: string; expiresAt: number }
  | { kind: 'bot'; role: 'bot'; space: string }
  /** A Mini App user, identified by Telegram-signed initData: reads `<space>/public` only. */
  | { kind: 'reader'; role: 'reader'; space: string; telegramUserId: number; name: string }

/** A refusal with a machine-readable reason; sent to the client as the close reason. */
export class AccessDenied extends Error {
  readonly reason: string
  constructor(reason: string, detail: string) {
    super(`${reason}: ${detail}`)
    this.reason = reason
  }
}

/** A change the data does not allow (HTTP 409): `space-exists`, `last-owner`, `already-member`. */
export class Conflict extends Error {
  readonly code: 'space-exists' | 'last-owner' | 'already-member'
  constructor(code: Conflict['code'], message: string) {
    super(message)
    this.code = code
  }
}

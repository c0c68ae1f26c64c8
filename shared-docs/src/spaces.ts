// Spaces, members and invites on the wire: the role names, the refusal
// reasons of /collab and the error codes of /api/spaces/..., shared by the
// server and the admin so both spell them once.

/** A member's role, held per space. */
export const SPACE_ROLES = ['owner', 'editor', 'viewer'] as const
export type SpaceRole = (typeof SPACE_ROLES)[number]

export function isSpaceRole(value: unknown): value is SpaceRole {
  return typeof value === 'string' && (SPACE_ROLES as readonly string[]).includes(value)
}

/** Rank of a role: a role satisfies a minimum of equal or lower rank. */
export function roleRank(role: SpaceRole): number {
  return role === 'owner' ? 3 : role === 'editor' ? 2 : 1
}

/** The id of a space: what a document name starts with (the spaces table checks the same). */
export const SPACE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/

export function isSpaceId(value: unknown): value is string {
  return typeof value === 'string' && SPACE_ID_PATTERN.test(value)
}

/**
 * Why a /collab connection to a space's document is refused or limited:
 * - `unknown-space`: no such space (it was never created, or was purged);
 * - `forbidden-space`: the user is not a member of that space;
 * - `space-deleting`: the space is being deleted: its documents open read-only until it is restored or purged.
 */
export type SpaceAccessReason = 'unknown-space' | 'forbidden-space' | 'space-deleting'

/** The error codes of the spaces, members and invites API (`{error, message}`). */
export const SPACE_API_ERRORS = {
  unknownSpace: 'unknown-space',
  forbiddenSpace: 'forbidden-space',
  notAnOwner: 'not-an-owner',
  readOnly: 'read-only',
  invalidSpace: 'invalid-space',
  spaceExists: 'space-exists',
  lastOwner: 'last-owner',
  alreadyMember: 'already-member',
  confirmRequired: 'confirm-required',
  notFound: 'not-found',
  inviteNotFound: 'invite-not-found',
  inviteExpired: 'invite-expired',
  inviteUsed: 'invite-used',
} as const
export type SpaceApiError = (typeof SPACE_API_ERRORS)[keyof typeof SPACE_API_ERRORS]

/** GET /api/spaces: one of the caller's memberships. deletingAt: when it will be purged (ms), null if not being deleted. */
export interface SpaceSummary {
  id: string
  name: string
  role: SpaceRole
  deletingAt: number | null
}

/** GET /api/spaces/:space/members */
export interface MemberView {
  userId: string
  email: string
  name: string
  role: SpaceRole
  lastSeenAt: number | null
}

export type InviteKind = 'invite' | 'reset'

export interface InviteView {
  id: string
  email: string
  role: SpaceRole
  kind: InviteKind
  createdAt: number
  expiresAt: number
}

/** GET /api/invites/:token */
export interface InviteInfo {
  space: string
  spaceName: string
  email: string
  role: SpaceRole
  kind: InviteKind
  existingUser: boolean
  expiresAt: number
}

/** Where an invite link points in the admin: `#/invite/<token>`. */
export function inviteUrl(origin: string, token: string): string {
  return `${origin.replace(/\/+$/, '')}/#/invite/${token}`
}

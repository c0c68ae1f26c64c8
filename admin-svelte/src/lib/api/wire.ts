// The JSON shapes of the server's /api that the admin reads (the shared
// contract of issue 13). Answers are read leniently: ids may come as
// numbers or strings, times as milliseconds or ISO strings; anything else
// malformed is dropped rather than shown broken.

import { isSpaceRole, SPACE_ROLES, type SpaceRole, type SpaceSummary } from '@botsync/shared-docs'

// The role names and the space summary are the server's (shared-docs' spaces.ts).
export { isSpaceRole, SPACE_ROLES, type SpaceRole, type SpaceSummary }

export const ROLE_LABELS: Record<SpaceRole, string> = { owner: 'Owner', editor: 'Editor', viewer: 'Viewer' }

/** A member of a space (GET /api/spaces/:space/members). */
export interface Member {
  userId: string
  email: string
  name: string
  role: SpaceRole
  lastSeenAt: number | null
}

/** A link not used yet: an invite, or a password reset (owners only). */
export interface PendingInvite {
  id: string
  email: string
  role: SpaceRole
  kind: 'invite' | 'reset'
  createdAt: number | null
  expiresAt: number
}

/** A one-time link the server just issued (an invite or a reset). */
export interface IssuedLink {
  url: string
  expiresAt: number
  /** Also sent by email (the server has SMTP_URL). */
  emailed: boolean
}

/** What an invite or reset link says (GET /api/invites/:token). */
export interface InviteInfo {
  space: string
  spaceName: string
  email: string
  role: SpaceRole
  kind: 'invite' | 'reset'
  existingUser: boolean
  expiresAt: number
}

export type BotStatus = 'starting' | 'connected' | 'failing' | 'stopped'

/** The space's Telegram bot (GET /api/spaces/:space/bot). */
export type BotInfo = { configured: false } | { configured: true; username: string; status: BotStatus; error: string | null }

/** Milliseconds since the epoch from a number or a date string; null otherwise. */
export function toMillis(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string' && value !== '') {
    const parsed = Date.parse(value)
    return Number.isNaN(parsed) ? null : parsed
  }
  return null
}

function record(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null
}

function id(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : null
}

export function parseSpace(value: unknown): SpaceSummary | null {
  const v = record(value)
  if (!v || typeof v.id !== 'string' || !isSpaceRole(v.role)) return null
  return { id: v.id, name: typeof v.name === 'string' && v.name !== '' ? v.name : v.id, role: v.role, deletingAt: toMillis(v.deletingAt) }
}

export function parseMember(value: unknown): Member | null {
  const v = record(value)
  const userId = id(v?.userId)
  if (!v || !userId || !isSpaceRole(v.role)) return null
  const email = typeof v.email === 'string' ? v.email : ''
  return { userId, email, name: typeof v.name === 'string' && v.name !== '' ? v.name : email, role: v.role, lastSeenAt: toMillis(v.lastSeenAt) }
}

export function parseInvite(value: unknown): PendingInvite | null {
  const v = record(value)
  const inviteId = id(v?.id)
  const expiresAt = toMillis(v?.expiresAt)
  if (!v || !inviteId || !isSpaceRole(v.role) || expiresAt === null) return null
  return {
    id: inviteId,
    email: typeof v.email === 'string' ? v.email : '',
    role: v.role,
    kind: v.kind === 'reset' ? 'reset' : 'invite',
    createdAt: toMillis(v.createdAt),
    expiresAt,
  }
}

export function parseIssuedLink(value: unknown): IssuedLink | null {
  const v = record(value)
  const expiresAt = toMillis(v?.expiresAt)
  if (!v || typeof v.url !== 'string' || expiresAt === null) return null
  return { url: v.url, expiresAt, emailed: v.emailed === true }
}

export function parseInviteInfo(value: unknown): InviteInfo | null {
  const v = record(value)
  const expiresAt = toMillis(v?.expiresAt)
  if (!v || typeof v.space !== 'string' || !isSpaceRole(v.role) || expiresAt === null) return null
  return {
    space: v.space,
    spaceName: typeof v.spaceName === 'string' && v.spaceName !== '' ? v.spaceName : v.space,
    email: typeof v.email === 'string' ? v.email : '',
    role: v.role,
    kind: v.kind === 'reset' ? 'reset' : 'invite',
    existingUser: v.existingUser === true,
    expiresAt,
  }
}

const BOT_STATUSES = new Set<unknown>(['starting', 'connected', 'failing', 'stopped'])

export function parseBot(value: unknown): BotInfo | null {
  const v = record(value)
  if (!v) return null
  if (v.configured !== true) return { configured: false }
  if (typeof v.username !== 'string') return null
  const status = BOT_STATUSES.has(v.status) ? (v.status as BotStatus) : 'starting'
  return { configured: true, username: v.username, status, error: typeof v.error === 'string' && v.error !== '' ? v.error : null }
}

export const ADMIN_ROLES = ['owner', 'editor', 'viewer'] as const
export type AdminRole = (typeof ADMIN_ROLES)[number]

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value)
}

/** Who is on the other end of a connection or request. */
export type Principal =
  /** `role`, `email` and `name` are the user row's at the time of the check; `expiresAt` is the token's (ms). */
  | { kind: 'admin'; role: AdminRole; userId: string; email: string; name: string; expiresAt: number }
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

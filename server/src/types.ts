import type { AdminRole, Principal } from './auth/roles.ts'

/** What onAuthenticate puts into a connection's Hocuspocus context. */
export interface ConnectionContext {
  principal: Principal
  space: string
  /** An admin's role in this space (kept current by LiveAccess), or 'bot' / 'reader'. */
  role: AdminRole | 'bot' | 'reader'
  readOnly: boolean
  /** The space is being deleted (read-only until restored). */
  spaceDeleting?: boolean
  /** Set by LiveAccess once the token's `exp` has passed and no fresh token came. */
  tokenExpired?: boolean
}

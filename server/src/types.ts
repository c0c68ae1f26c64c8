import type { Principal } from './auth/roles.ts'

/** What onAuthenticate puts into a connection's Hocuspocus context. */
export interface ConnectionContext {
  principal: Principal
  space: string
  readOnly: boolean
  /** Set by LiveAccess once the token's `exp` has passed and no fresh token came. */
  tokenExpired?: boolean
}

import { docName } from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { Principal } from '../auth/roles.ts'

export interface ReaderIdentity {
  principal: Extract<Principal, { kind: 'reader' }>
  /** The one document a reader may read: its space's public projection. */
  document: string
}

/**
 * Who a Mini App reader is and what they may read (`GET /api/miniapp/me?space=<space>`,
 * `Authorization: tma <initData>`); null when the token is valid but not a
 * reader's. An invalid token is refused like anywhere else (AccessDenied).
 * `space` is the one the page names (its URL's ?space=, set by that space's
 * bot); the initData must be signed by that space's bot. Without it: BOT_SPACE.
 */
export async function identifyReader(authenticator: Authenticator, token: string | undefined | null, space?: string): Promise<ReaderIdentity | null> {
  const principal = await authenticator.identify(token, space)
  if (principal.kind !== 'reader') return null
  return { principal, document: docName.public(principal.space) }
}

// The stateless message a client gets when the server refuses one of its
// changes. The change is neither stored nor applied; the provider keeps it
// as unsynced. The admin shows `reason` (see its connection status).
//
// Every side builds and reads it only through this file: the server with
// refusalMessage, the admin and the bot with parseRefusal.

import { parseStatelessObject } from './stateless.ts'

export const REFUSED_MESSAGE_TYPE = 'botsync:refused'

/**
 * Why a change was refused:
 * - `read-only`: this connection may only read (viewer, bot, server-written documents);
 * - `invalid-update`: the update decodes but Yjs could not integrate it (it would break the document);
 * - `document-too-large`: the document would grow past the server's MAX_DOCUMENT_BYTES;
 * - `rate-limited`: this connection sent more updates than MAX_UPDATES_PER_SECOND allows (it is sent again later);
 * - `too-much-waiting`: the update would wait for content the server does not have, and the document already holds MAX_WAITING_BYTES of such updates.
 */
export type RefusalReason = 'read-only' | 'invalid-update' | 'document-too-large' | 'rate-limited' | 'too-much-waiting'

/**
 * Why an open connection lost write access, sent in the same message:
 * - `token-expired`: its token's `exp` passed (a fresh token gives write access back);
 * - `role-changed`: the user's role in this space was lowered (to viewer);
 * - `space-deleting`: the space is being deleted (read-only until restored).
 */
export type AccessLossReason = 'token-expired' | 'role-changed' | 'space-deleting'

export interface RefusalMessage {
  type: typeof REFUSED_MESSAGE_TYPE
  reason: RefusalReason | AccessLossReason
  message: string
}

/** What parseRefusal reads from a refusal message. */
export interface Refusal {
  /**
   * One of RefusalReason or AccessLossReason from this version; any other
   * string is a reason a newer server sent, kept as it came (the admin has
   * a generic text for it).
   */
  reason: RefusalMessage['reason'] | (string & {})
  /** For people and logs; '' when the server sent none. */
  message: string
}

/** The stateless payload refusing a change (or ending write access) for `reason`. */
export function refusalMessage(reason: RefusalReason | AccessLossReason, message: string): string {
  return JSON.stringify({ type: REFUSED_MESSAGE_TYPE, reason, message } satisfies RefusalMessage)
}

/**
 * Reads a stateless payload: the refusal it carries, or null for anything
 * else (another message type, not JSON, no reason, fields of the wrong
 * type). Never throws: the payload comes from the network.
 */
export function parseRefusal(payload: unknown): Refusal | null {
  const value = parseStatelessObject(payload)
  if (!value) return null
  const { type, reason, message } = value
  if (type !== REFUSED_MESSAGE_TYPE || typeof reason !== 'string' || reason === '') return null
  if (message !== undefined && typeof message !== 'string') return null
  return { reason, message: message ?? '' }
}

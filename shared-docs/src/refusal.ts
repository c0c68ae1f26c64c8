// The stateless message a client gets when the server refuses one of its
// changes. The change is neither stored nor applied; the provider keeps it
// as unsynced. The admin shows `reason` (see its connection status).

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

export interface RefusalMessage {
  type: typeof REFUSED_MESSAGE_TYPE
  reason: RefusalReason
  message: string
}

export function refusalMessage(reason: RefusalReason, message: string): string {
  return JSON.stringify({ type: REFUSED_MESSAGE_TYPE, reason, message } satisfies RefusalMessage)
}

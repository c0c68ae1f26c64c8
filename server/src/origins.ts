import type { LocalTransactionOrigin, RedisTransactionOrigin } from '@hocuspocus/server'

/**
 * The transaction origins of the server's live documents, and the one place
 * that tells them apart. Hocuspocus' own origins (`TransactionOrigin`):
 *
 * - `{ source: 'connection', connection }`: a client's update, applied by
 *   Hocuspocus after every beforeHandleMessage hook (DurablePersistence has
 *   committed it by then);
 * - `{ source: 'redis' }`: applied from another instance (FANOUT_ORIGIN);
 * - `{ source: 'local', skipStoreHooks?, context? }`: made on this instance,
 *   e.g. through a direct connection. botsync's own local origin,
 *   STORED_ORIGIN, skips the store hooks: what it applies is in the database
 *   already.
 *
 * Anything else (null, undefined, a foreign object) is none of these; which
 * predicate accepts it is spelled out on each one.
 */

/** Origin of changes that are already in the database when applied in memory (loads, ServerWriter, the public projection). */
export const STORED_ORIGIN = { source: 'local', skipStoreHooks: true, context: { stored: true } } as const satisfies LocalTransactionOrigin

/**
 * Origin of everything applied from another instance. Hocuspocus skips its
 * store hooks for it, DurablePersistence stores only local origins that do
 * not skip them, and RedisFanout never republishes it: the instance whose
 * client made the change committed it before publishing, and is the only one
 * that stores it.
 */
export const FANOUT_ORIGIN: RedisTransactionOrigin = { source: 'redis' }

/** `origin.source`, read the way Yjs hands origins over: anything, null included. */
function sourceOf(origin: unknown): unknown {
  return (origin as { source?: unknown } | null | undefined)?.source
}

/**
 * A change made on this instance that nobody has stored yet: a local origin
 * that does not skip the store hooks (so not STORED_ORIGIN). DurablePersistence.onChange
 * appends these; a client's update (committed before it was applied), a
 * fanned-out one (stored by its instance) and STORED_ORIGIN are not.
 */
export function isUnstoredLocalOrigin(origin: unknown): boolean {
  return sourceOf(origin) === 'local' && !(origin as { skipStoreHooks?: unknown }).skipStoreHooks
}

/** Applied from another instance (FANOUT_ORIGIN, Hocuspocus' `redis` source): never published again. */
export function isFanoutOrigin(origin: unknown): boolean {
  return sourceOf(origin) === 'redis'
}

/**
 * An awareness change this instance is the source of: its clients' own
 * (origin `connection`) and their removal when a connection closes (origin
 * null, y-protocols' removeAwarenessStates). Not remote states (FANOUT_ORIGIN,
 * from their own instance) nor y-protocols' timeouts ('timeout': every
 * instance times out stale states by itself).
 */
export function isOwnClientAwareness(origin: unknown): boolean {
  return origin === null || sourceOf(origin) === 'connection'
}

import type { Extension } from '@hocuspocus/server'
import type { Authorization } from './extensions/authorization.ts'
import type { CatchUpAnswers } from './extensions/catch-up-answers.ts'
import type { DurablePersistence } from './extensions/durable-persistence.ts'
import type { LiveAccess } from './extensions/live-access.ts'
import type { RedisFanout } from './extensions/redis-fanout.ts'
import type { ConnectionLimits } from './http/connection-limits.ts'
import type { HttpApi } from './http/http-api.ts'
import type { PublicContent } from './readers/public-content.ts'
import type { Checkpointer } from './versions/checkpointer.ts'

/** The extensions of one instance, by what they do; extensionChain puts them in order. */
export interface ChainLinks {
  authorization: Authorization
  durablePersistence: DurablePersistence
  catchUp: CatchUpAnswers
  publicContent: PublicContent
  /** Null without REDIS_URL (a single instance). */
  redisFanout: RedisFanout | null
  liveAccess: LiveAccess
  checkpoints: Checkpointer
  httpApi: HttpApi
  connectionLimits: ConnectionLimits
}

/**
 * The Hocuspocus extension chain, in the order every hook runs: Hocuspocus
 * calls a hook on each extension that has it, one after the other, each
 * awaited. This list is the one place that order is written; the priorities
 * Hocuspocus sorts by are assigned from it.
 *
 * A client's update on /collab goes authorise → store → apply/broadcast →
 * fan out → project: Authorization decided at connect whether it may write;
 * DurablePersistence.beforeHandleMessage checks it and commits it to
 * PostgreSQL; only then (every beforeHandleMessage has resolved) does
 * Hocuspocus apply it, acknowledge it and broadcast it to this instance's
 * clients; the onChange hooks then run in list order, DurablePersistence's
 * (stores local changes nobody stored yet) before RedisFanout's (publishes),
 * so nothing is published before it is committed. If the document is a
 * source of a loaded `<space>/public`, its projection recomputes on the
 * update and commits its own change before applying it. The projection is
 * driven by the document's update events, not by a hook of this chain:
 * PublicContent's place here is for its load and unload hooks, and keeps
 * the order these extensions have always run in.
 */
export function extensionChain(links: ChainLinks): Extension[] {
  const chain: Extension[] = [
    // authorise: onAuthenticate turns the token and document name into a role and read-only or not.
    links.authorization,
    // store: loads documents; commits each client update to PostgreSQL before Hocuspocus applies, acks and broadcasts it.
    links.durablePersistence,
    // (apply/broadcast: Hocuspocus itself, once every beforeHandleMessage has resolved.)
    // read-your-writes: answers the bot's stateless catch-up request with the space's stored state vectors.
    links.catchUp,
    // project: keeps each loaded `<space>/public` equal to the public content Mini App readers read (after the store loaded it).
    links.publicContent,
    // fan out: publishes every change not from Redis to other instances (after the store's onChange) and applies theirs.
    ...(links.redisFanout ? [links.redisFanout] : []),
    // keeps open admin connections' access current (token expiry, role changes, deleted users).
    links.liveAccess,
    // history: a content change starts its space's checkpoint timer (CHECKPOINT_INTERVAL).
    links.checkpoints,
    // the HTTP side of the port: /collab and /readers upgrades, /api, /health, the admin's files.
    links.httpApi,
    // last: its onAuthenticate means every other one has passed; lifts the pre-authentication limits.
    links.connectionLimits,
  ]
  // Hocuspocus runs hooks by descending priority; the last link still ranks
  // above its default (100), so nothing configured without one runs first.
  chain.forEach((extension, index) => {
    extension.priority = 100 * (chain.length - index) + 100
  })
  return chain
}

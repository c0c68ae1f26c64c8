// Read-your-writes for the bot: before it answers a batch of Telegram
// updates, it asks the server (a stateless message on its existing socket)
// for the state vector of each of its space's documents as the server has
// durably stored them, and waits until its replica covers them. Everything
// any instance acknowledged before the batch reached the bot is then in the
// answer.
//
// Every side builds and reads these messages only through this file: the bot
// with catchUpRequest / parseCatchUpAnswer, the server with
// parseCatchUpRequest / catchUpAnswer / catchUpFailure.
import { parseStatelessObject } from './stateless.ts'
import * as Y from 'yjs'

export const CATCH_UP_REQUEST_TYPE = 'botsync:catch-up'
export const CATCH_UP_ANSWER_TYPE = 'botsync:catch-up-answer'

/** A state vector as JSON: client id (decimal) → the clock after that client's last stored change. */
export type StateVectorJson = Record<string, number>

export interface CatchUpRequest {
  type: typeof CATCH_UP_REQUEST_TYPE
  /** Chosen by the requester; the answer carries it back. */
  id: string
}

export type CatchUpAnswer =
  | {
      type: typeof CATCH_UP_ANSWER_TYPE
      id: string
      /** Document name → its stored state vector; every document of the space the requester may read. */
      documents: Record<string, StateVectorJson>
    }
  | { type: typeof CATCH_UP_ANSWER_TYPE; id: string; error: string }

const MAX_ID_LENGTH = 64

function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH
}

export function catchUpRequest(id: string): string {
  if (!isRequestId(id)) throw new TypeError(`catch-up request id must be 1–${MAX_ID_LENGTH} characters`)
  return JSON.stringify({ type: CATCH_UP_REQUEST_TYPE, id } satisfies CatchUpRequest)
}

/** The request a stateless payload carries, or null for anything else. Never throws. */
export function parseCatchUpRequest(payload: unknown): CatchUpRequest | null {
  const value = parseStatelessObject(payload)
  if (!value || value.type !== CATCH_UP_REQUEST_TYPE || !isRequestId(value.id)) return null
  return { type: CATCH_UP_REQUEST_TYPE, id: value.id }
}

export function catchUpAnswer(id: string, documents: Map<string, Map<number, number>>): string {
  const json: Record<string, StateVectorJson> = {}
  for (const [name, vector] of documents) json[name] = Object.fromEntries([...vector].map(([client, clock]) => [String(client), clock]))
  return JSON.stringify({ type: CATCH_UP_ANSWER_TYPE, id, documents: json } satisfies CatchUpAnswer)
}

export function catchUpFailure(id: string, error: string): string {
  return JSON.stringify({ type: CATCH_UP_ANSWER_TYPE, id, error } satisfies CatchUpAnswer)
}

/** What parseCatchUpAnswer reads: state vectors by document, or the server's reason it could not answer. */
export type ParsedCatchUpAnswer = { id: string; documents: Map<string, Map<number, number>> } | { id: string; error: string }

/** Reads an answer; null for any other payload or a malformed one. Never throws: it comes from the network. */
export function parseCatchUpAnswer(payload: unknown): ParsedCatchUpAnswer | null {
  const value = parseStatelessObject(payload)
  if (!value || value.type !== CATCH_UP_ANSWER_TYPE || !isRequestId(value.id)) return null
  if (typeof value.error === 'string') return { id: value.id, error: value.error }
  const documents = value.documents
  if (typeof documents !== 'object' || documents === null || Array.isArray(documents)) return null
  const parsed = new Map<string, Map<number, number>>()
  for (const [name, vector] of Object.entries(documents as Record<string, unknown>)) {
    if (typeof vector !== 'object' || vector === null || Array.isArray(vector)) return null
    const clocks = new Map<number, number>()
    for (const [client, clock] of Object.entries(vector as Record<string, unknown>)) {
      const id = Number(client)
      if (!Number.isSafeInteger(id) || id < 0 || typeof clock !== 'number' || !Number.isSafeInteger(clock) || clock < 0) return null
      clocks.set(id, clock)
    }
    parsed.set(name, clocks)
  }
  return { id: value.id, documents: parsed }
}

/** True when `doc` holds every change `vector` counts (each client's clock at least as far). */
export function coversStateVector(doc: Y.Doc, vector: ReadonlyMap<number, number>): boolean {
  if (vector.size === 0) return true
  const own = Y.decodeStateVector(Y.encodeStateVector(doc))
  for (const [client, clock] of vector) if ((own.get(client) ?? 0) < clock) return false
  return true
}

import * as Y from 'yjs'

/**
 * Whether a Yjs update (V1, the encoding Hocuspocus and the log use) can be
 * integrated without breaking the document it is applied to.
 *
 * `Y.decodeUpdate` succeeding does not mean `Y.applyUpdate` will: Yjs trusts
 * the references inside an update. Reading yjs 13.6's `integrateStructs`,
 * `Item.getMissing`, `Item.integrate`, `readAndApplyDeleteSet` and the struct
 * store, a decodable update breaks a document in exactly these ways:
 *
 * - **self-reference**: an item's `origin`, `rightOrigin` or parent ID names
 *   its own client at a clock at or after the item itself. Yjs assumes a
 *   client's earlier clocks are present (it only waits for *other* clients),
 *   so it looks the ID up in the store and throws (`findIndexSS`). Honest
 *   clients never write this: an item can only point at items that existed
 *   when it was created, which for its own client are lower clocks.
 * - **empty-struct**: an item or GC of length 0 (`""`, `[]`, `Deleted(0)`).
 *   It integrates silently, but the struct store's binary search breaks on
 *   it afterwards: `encodeStateAsUpdate` throws, so the document can no
 *   longer be compacted or sent to a new client. Honest clients never write
 *   one (Yjs drops empty inserts before they become items).
 * - **empty-deletion**: a deleted range of length 0. Of clocks the document
 *   already has it does nothing, but of clocks it does not have yet it
 *   becomes a pending deletion, which Yjs fails on (`Unexpected case`) when
 *   it applies, merges or encodes pending deletions: at once or on a later
 *   update, compaction or sync. Yjs never writes one (deleted ranges come
 *   from deleted structs).
 * - **number-out-of-range** (a precaution, not a throw we have seen): a
 *   client, clock, length or the end of a struct or deleted range beyond
 *   2^53 - 1. Yjs adds clocks up as doubles, which past that stop being
 *   exact integers, so the store's contiguity and the state vector would
 *   rest on rounding. No honest client gets near it (2^53 operations).
 *
 * Everything else a decodable update can say integrates: references to
 * other clients' structs the document does not have yet make Yjs keep the
 * update pending until they arrive (ordinary out-of-order delivery, which
 * must not be refused), references to garbage-collected structs turn the
 * item into GC, a parent ID naming an item that is not a type makes the item
 * GC too, structs the document already has are skipped, and deletions of
 * unknown ranges wait as pending deletions. All rules but two are about the
 * update's own structs; **overlaps-collected** and **overlaps-elsewhere**
 * (below) also read the document's last struct of each client the update
 * writes.
 *
 * Cost: one `Y.decodeUpdate` (none when given a decoded update) and one pass
 * over its structs and deletions, proportional to the update, independent of
 * the document's size but for a few binary searches per item that overlaps
 * what the document has (rare: honest clients overlap only when resending).
 */

/** An update as `Y.decodeUpdate` gives it: the write path decodes once and hands it to every check. */
export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>

/** Why an update cannot be integrated (the first problem found), or null. */
export function integrationProblem(doc: Y.Doc, update: Uint8Array | DecodedUpdate): string | null {
  return check(update, doc)
}

/** The checks that need no document: a property of the update alone. */
export function updateProblem(update: Uint8Array): string | null {
  return check(update, null)
}

function check(update: Uint8Array | DecodedUpdate, doc: Y.Doc | null): string | null {
  let decoded: DecodedUpdate
  try {
    decoded = update instanceof Uint8Array ? Y.decodeUpdate(update) : update
  } catch (error) {
    return `malformed: ${error instanceof Error ? error.message : String(error)}`
  }
  for (const struct of decoded.structs) {
    const problem = structProblem(struct) ?? (doc ? overlapProblem(doc, struct) : null)
    if (problem) return problem
  }
  for (const [client, ranges] of decoded.ds.clients) {
    if (!safe(client)) return `number-out-of-range: deletions of client ${client}`
    for (const { clock, len } of ranges) {
      if (len === 0) return `empty-deletion: deleted range ${client}:${clock} has length 0`
      if (!safe(clock) || !safe(len) || !safe(clock + len)) {
        return `number-out-of-range: deleted range ${client}:${clock}+${len}`
      }
    }
  }
  return null
}

function structProblem(struct: Y.Item | Y.GC | Y.Skip): string | null {
  const { client, clock } = struct.id
  const name = `${client}:${clock}`
  if (!safe(client) || !safe(clock) || !safe(struct.length) || !safe(clock + struct.length)) {
    return `number-out-of-range: struct ${name} of length ${struct.length}`
  }
  // A Skip is a gap in the update, never integrated.
  if (struct instanceof Y.Skip) return null
  if (struct.length === 0) return `empty-struct: ${name} has length 0`
  if (!(struct instanceof Y.Item)) return null
  const references: Array<[string, Y.ID | null]> = [
    ['origin', struct.origin],
    ['rightOrigin', struct.rightOrigin],
    ['parent', struct.parent instanceof Y.ID ? struct.parent : null],
  ]
  for (const [field, id] of references) {
    if (!id) continue
    if (!safe(id.client) || !safe(id.clock)) return `number-out-of-range: ${field} of ${name}`
    if (id.client === client && id.clock >= clock) {
      return `self-reference: ${field} of ${name} points at ${id.client}:${id.clock}, not before it`
    }
  }
  return null
}

/**
 * An item that starts below its client's clock in the document and ends
 * above it: Yjs skips the part the document has and integrates only the
 * tail, right after the client's last struct, in that struct's list. That
 * is only sound when the last struct is the start of the same item, which
 * is what an honest client's update gives (an item is created whole, so a
 * document has a prefix of it or none of it; it gets one when a client
 * resends what overlaps an earlier update). When another update took those
 * clocks first (nothing tells such an update from an honest one while it
 * waits for its client's earlier clocks), the client's own update is the
 * one that no longer fits, and is refused:
 *
 * - **overlaps-collected**: the last struct is garbage-collected (a GC, no
 *   list neighbours); integration throws. Found by the fuzz suite (a
 *   hand-made GC range, then an item of the same client over it) and the
 *   mutation properties (a client's clocks taken by a forged update).
 * - **overlaps-elsewhere**: the last struct is an item in another type, or
 *   under another map key, than the one the update's item names. Nothing
 *   throws, but the tail is linked into the other list while the named
 *   type counts its length: the document in memory no longer matches what
 *   it encodes (a reload puts the tail in the other list).
 *
 * Reads the client's last struct, and only for an overlapping item (rare:
 * honest updates overlap only when resent) the struct its origin, right
 * origin or parent names: a lookup each, logarithmic in that client's
 * structs. When the update's item waits for a struct of another client,
 * Yjs decides its place only once that arrives, so it passes here.
 */
function overlapProblem(doc: Y.Doc, struct: Y.Item | Y.GC | Y.Skip): string | null {
  if (!(struct instanceof Y.Item)) return null
  const { client, clock } = struct.id
  const structs = doc.store.clients.get(client)
  if (!structs?.length) return null
  const last = structs[structs.length - 1]
  const state = last.id.clock + last.length
  if (!(clock < state && state < clock + struct.length)) return null
  const name = `${client}:${clock}+${struct.length}`
  if (last instanceof Y.GC) {
    return `overlaps-collected: ${name} continues after the collected ${client}:${last.id.clock}+${last.length}`
  }
  const place = placeOf(doc, struct)
  if (place && (place.parent !== last.parent || place.parentSub !== last.parentSub)) {
    return `overlaps-elsewhere: ${name} continues after ${client}:${last.id.clock}+${last.length}, which is not in the type it names`
  }
  return null
}

/**
 * The type (and map key) Yjs would integrate `item` into, as `getMissing`
 * works it out; null when it would become GC or waits for a struct the
 * document does not have.
 */
function placeOf(doc: Y.Doc, item: Y.Item): { parent: unknown; parentSub: string | null } | null {
  const lookup = (id: Y.ID | null): Y.Item | Y.GC | null | undefined => {
    if (!id) return null
    if (id.clock >= Y.getState(doc.store, id.client)) return undefined
    return Y.getItem(doc.store, id) as Y.Item | Y.GC
  }
  const left = lookup(item.origin)
  const right = lookup(item.rightOrigin)
  if (left === undefined || right === undefined) return null
  if (left instanceof Y.GC || right instanceof Y.GC) return null
  const parent = item.parent
  if (typeof parent === 'string') return { parent: doc.share.get(parent), parentSub: item.parentSub }
  if (parent instanceof Y.ID) {
    const type = lookup(parent)
    if (!(type instanceof Y.Item) || !(type.content instanceof Y.ContentType)) return null
    return { parent: type.content.type, parentSub: item.parentSub }
  }
  const neighbour = left ?? right
  return neighbour ? { parent: neighbour.parent, parentSub: neighbour.parentSub } : null
}

function safe(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

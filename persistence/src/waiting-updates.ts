import * as Y from 'yjs'
import type { DecodedUpdate } from './update-integrity.ts'

// Yjs keeps an update that references content it lacks as "pending" and
// retries all of it after every later update. That is how out-of-order
// delivery works, and honest documents hold little or nothing pending; but
// a client can send updates that wait forever, and then every update after
// them pays for the retry: 200 KB pending made each applied update cost
// ~13 ms on the event loop, and a load of 481 rows behind it 7 s (found by
// the fuzz suite at 100,000 cases). These two functions let the write path
// bound it.

/** Bytes of structs and deletions the document holds waiting (Yjs' pending state). */
export function waitingBytes(doc: Y.Doc): number {
  return (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0)
}

/**
 * Whether applying `update` to `doc` might leave something of it waiting:
 * a gap in a client's clocks, or a reference to another client's struct
 * that neither the document nor the update has, or a deletion of such a
 * struct. Conservative (an update whose structs depend on each other across
 * clients may be called waiting when Yjs would integrate it whole), which is
 * fine for its one use: refusing more waiting updates once a document holds
 * too many. Cost: proportional to the update (one decode unless given a decoded one).
 */
export function mayWait(doc: Y.Doc, update: Uint8Array | DecodedUpdate): boolean {
  let decoded: DecodedUpdate
  try {
    decoded = update instanceof Uint8Array ? Y.decodeUpdate(update) : update
  } catch {
    return true
  }
  // How far each client's clock reaches with this update (structs of one client come in order).
  const reach = new Map<number, number>()
  const known = (client: number) => reach.get(client) ?? Y.getState(doc.store, client)
  for (const struct of decoded.structs) {
    const { client, clock } = struct.id
    if (struct instanceof Y.Skip || clock > known(client)) return true
    reach.set(client, Math.max(known(client), clock + struct.length))
  }
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue
    const parent = struct.parent instanceof Y.ID ? struct.parent : null
    for (const id of [struct.origin, struct.rightOrigin, parent]) {
      if (id && id.client !== struct.id.client && id.clock >= known(id.client)) return true
    }
  }
  for (const [client, ranges] of decoded.ds.clients) {
    for (const { clock, len } of ranges) if (clock + len > known(client)) return true
  }
  return false
}

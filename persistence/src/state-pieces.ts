import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/**
 * About this many bytes per piece: applying 64 KB of a typical document
 * takes a few milliseconds (a 3 MB state took ~400 ms in one call).
 */
const PIECE_BYTES = 64 * 1024

/**
 * A document's state as a list of updates that, applied in order, give the
 * same document as `Y.encodeStateAsUpdate(doc)` in one call, but each only
 * a slice of the work: runs of one client's structs of about PIECE_BYTES,
 * clients in dependency order (a client whose items others were typed next
 * to comes first, so few pieces wait as pending), then one piece with every
 * deletion. Written by hand because Yjs encodes a state only whole or from a
 * state vector onwards (no upper bound, and always with the whole delete
 * set); this is its own struct encoding (`writeStructs`: count, client,
 * first clock, then each struct's `write`) cut into runs, with an empty
 * delete set. Whatever the order, Yjs converges to the same document; the
 * order only decides how much waits as pending.
 */
export function statePieces(doc: Y.Doc): Uint8Array[] {
  const pieces: Uint8Array[] = []
  for (const client of dependencyOrder(doc)) {
    const structs = doc.store.clients.get(client)!
    let body = new Y.UpdateEncoderV1()
    let first = 0
    const flush = (end: number) => {
      const piece = new Y.UpdateEncoderV1()
      encoding.writeVarUint(piece.restEncoder, 1)
      encoding.writeVarUint(piece.restEncoder, end - first)
      piece.writeClient(client)
      encoding.writeVarUint(piece.restEncoder, structs[first].id.clock)
      encoding.writeUint8Array(piece.restEncoder, body.toUint8Array())
      // No deletions here: they all come in the last piece.
      encoding.writeVarUint(piece.restEncoder, 0)
      pieces.push(piece.toUint8Array())
      body = new Y.UpdateEncoderV1()
      first = end
    }
    for (let i = 0; i < structs.length; i++) {
      structs[i].write(body, 0)
      // encoding.length walks the encoder's buffer list: measure every 32 structs, not every one.
      if (i % 32 === 31 && encoding.length(body.restEncoder) >= PIECE_BYTES) flush(i + 1)
    }
    if (first < structs.length) flush(structs.length)
  }
  // No structs, every deletion (the encoding of "what a peer with our state vector lacks"), in runs of ranges.
  // In a garbage-collected doc every deleted struct already arrives as GC or
  // deleted content, so these only repeat what the structs say; they keep
  // the pieces equal to the state for any doc (one with kept deleted items).
  pieces.push(...deletionPieces(Y.encodeStateAsUpdate(doc, Y.encodeStateVector(doc))))
  return pieces
}

/** Ranges per deletion piece: a 300k-character document's 40 KB delete set took ~37 ms to apply at once. */
const RANGES_PER_PIECE = 4096

/** Splits an update without structs (count 0, then the delete set: clients, each with its clock/length ranges) into runs of ranges. */
function deletionPieces(update: Uint8Array): Uint8Array[] {
  const decoder = decoding.createDecoder(update)
  if (decoding.readVarUint(decoder) !== 0) throw new Error('expected an update without structs')
  const pieces: Uint8Array[] = []
  let piece: Array<[number, number[]]> = []
  let ranges = 0
  const flush = () => {
    // A run cut exactly at a client's end leaves an empty entry behind.
    piece = piece.filter(([, clocks]) => clocks.length > 0)
    if (piece.length === 0) return
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarUint(encoder, piece.length)
    for (const [client, clocks] of piece) {
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, clocks.length / 2)
      for (const value of clocks) encoding.writeVarUint(encoder, value)
    }
    pieces.push(encoding.toUint8Array(encoder))
    piece = []
    ranges = 0
  }
  for (let clients = decoding.readVarUint(decoder); clients > 0; clients--) {
    const client = decoding.readVarUint(decoder)
    let clocks: number[] = []
    piece.push([client, clocks])
    for (let count = decoding.readVarUint(decoder); count > 0; count--) {
      clocks.push(decoding.readVarUint(decoder), decoding.readVarUint(decoder))
      if (++ranges >= RANGES_PER_PIECE) {
        flush()
        clocks = []
        piece.push([client, clocks])
      }
    }
  }
  flush()
  return pieces.length > 0 ? pieces : [update]
}

/** Clients ordered so that those whose items another client's items point at come before it (cycles: fewest unmet first). */
function dependencyOrder(doc: Y.Doc): number[] {
  const needs = new Map<number, Set<number>>()
  for (const [client, structs] of doc.store.clients) {
    const others = new Set<number>()
    for (const struct of structs) {
      if (!(struct instanceof Y.Item)) continue
      for (const id of [struct.origin, struct.rightOrigin, struct.parent instanceof Y.AbstractType ? struct.parent._item?.id : null]) {
        if (id && id.client !== client) others.add(id.client)
      }
    }
    needs.set(client, others)
  }
  const order: number[] = []
  const placed = new Set<number>()
  while (order.length < needs.size) {
    let best = -1
    let bestUnmet = Infinity
    for (const [client, others] of needs) {
      if (placed.has(client)) continue
      let unmet = 0
      for (const other of others) if (!placed.has(other) && needs.has(other)) unmet += 1
      if (unmet < bestUnmet) {
        best = client
        bestUnmet = unmet
        if (unmet === 0) break
      }
    }
    order.push(best)
    placed.add(best)
  }
  return order
}

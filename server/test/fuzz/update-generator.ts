import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import * as Y from 'yjs'

// Builds Yjs updates (format V1) struct by struct, with random clients,
// clocks, origins, parents, contents and delete sets — the shapes a hostile
// or buggy client can send. Yjs has no public encoder for hand-made structs
// (its encoders serialise integrated Items), so the wire format is written
// here with lib0's primitives, field for field as yjs' Item.write does.

export type Rng = ReturnType<typeof prng.create>

const BIT8 = 0x80 // origin present
const BIT7 = 0x40 // right origin present
const BIT6 = 0x20 // parentSub present

/** Content refs of yjs' struct format (the low five bits of the info byte). */
const Ref = {
  GC: 0,
  Deleted: 1,
  JSON: 2,
  Binary: 3,
  String: 4,
  Embed: 5,
  Format: 6,
  Type: 7,
  Any: 8,
  Doc: 9,
  Skip: 10,
} as const
type Ref = (typeof Ref)[keyof typeof Ref]

interface Id {
  client: number
  clock: number
}

/** Root names the generator writes into; the honest writer's root is never among them. */
const ROOTS = ['fuzz', 'settings', 'texts', 'items', 'steps', '']

/**
 * A seeded source of hostile-but-plausible updates. It remembers the IDs it
 * has produced so that later updates reference real structs as often as
 * invented ones: origins into the past, the future, its own client's future
 * clock (the shape that poisoned documents), parents that are not types.
 * It only ever uses its own client ids, so an honest writer's content can be
 * built on but never deleted or overwritten by it.
 */
export class UpdateGenerator {
  readonly #rng: Rng
  readonly #clients: number[]
  readonly #next = new Map<number, number>()
  readonly #known: Array<Id & { length: number }> = []

  constructor(rng: Rng, clients: number[]) {
    this.#rng = rng
    this.#clients = clients
  }

  /** One update: 1–3 clients, 1–4 structs each, and maybe a delete set. */
  update(): Uint8Array {
    const r = this.#rng
    const encoder = encoding.createEncoder()
    const clients = new Set<number>()
    const clientCount = prng.int32(r, 1, 3)
    while (clients.size < clientCount) clients.add(this.#pick(this.#clients))
    encoding.writeVarUint(encoder, clients.size)
    for (const client of clients) {
      const count = prng.int32(r, 1, 4)
      const next = this.#next.get(client) ?? 0
      // Mostly the next clock (integrates), sometimes a gap (pending) or a repeat (already known).
      const start = this.#chance(0.75) ? next : this.#chance(0.5) ? next + prng.int32(r, 1, 20) : prng.int32(r, 0, next)
      encoding.writeVarUint(encoder, count)
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, start)
      let clock = start
      for (let i = 0; i < count; i++) {
        const length = this.#struct(encoder, { client, clock })
        this.#known.push({ client, clock, length })
        clock += length
      }
      if (clock > next) this.#next.set(client, clock)
    }
    this.#deleteSet(encoder)
    if (this.#known.length > 2000) this.#known.splice(0, 1000)
    return encoding.toUint8Array(encoder)
  }

  /** Writes one struct at `id`; returns its length in clock units. */
  #struct(encoder: encoding.Encoder, id: Id): number {
    const r = this.#rng
    const roll = r.next()
    if (roll < 0.03) {
      encoding.writeUint8(encoder, Ref.GC)
      const length = prng.int32(r, 1, 5)
      encoding.writeVarUint(encoder, length)
      return length
    }
    if (roll < 0.05) {
      encoding.writeUint8(encoder, Ref.Skip)
      const length = prng.int32(r, 1, 5)
      encoding.writeVarUint(encoder, length)
      return length
    }
    const origin = this.#chance(0.55) ? this.#reference(id) : null
    const rightOrigin = this.#chance(0.25) ? this.#reference(id) : null
    const parentSub = origin === null && rightOrigin === null && this.#chance(0.4) ? this.#key() : null
    const ref = this.#contentRef()
    encoding.writeUint8(encoder, ref | (origin ? BIT8 : 0) | (rightOrigin ? BIT7 : 0) | (parentSub !== null ? BIT6 : 0))
    if (origin) writeId(encoder, origin)
    if (rightOrigin) writeId(encoder, rightOrigin)
    if (!origin && !rightOrigin) {
      if (this.#chance(0.8)) {
        encoding.writeVarUint(encoder, 1) // parent is a root type, by name
        encoding.writeVarString(encoder, this.#pick(ROOTS))
      } else {
        encoding.writeVarUint(encoder, 0) // parent is a struct, by id: a type or not
        writeId(encoder, this.#reference(id))
      }
      if (parentSub !== null) encoding.writeVarString(encoder, parentSub)
    }
    return this.#content(encoder, ref)
  }

  #contentRef(): Ref {
    const weighted = [Ref.String, Ref.String, Ref.String, Ref.Any, Ref.Any, Ref.Type, Ref.Type, Ref.Deleted, Ref.Format, Ref.Embed, Ref.Binary, Ref.JSON, Ref.Doc]
    return this.#pick(weighted)
  }

  #content(encoder: encoding.Encoder, ref: Ref): number {
    const r = this.#rng
    switch (ref) {
      case Ref.String: {
        const text = prng.utf16String(r, prng.int32(r, 1, 6)) || 'x'
        encoding.writeVarString(encoder, text)
        return text.length
      }
      case Ref.Any: {
        const count = prng.int32(r, 1, 3)
        encoding.writeVarUint(encoder, count)
        for (let i = 0; i < count; i++) encoding.writeAny(encoder, this.#chance(0.5) ? prng.int32(r, -5, 1000) : prng.word(r, 0, 8))
        return count
      }
      case Ref.Type: {
        const typeRef = prng.int32(r, 0, 7) // YArray … YXmlText, and one past the end
        encoding.writeVarUint(encoder, typeRef)
        if (typeRef === 3) encoding.writeVarString(encoder, prng.word(r, 1, 6)) // YXmlElement nodeName
        if (typeRef === 5) encoding.writeVarString(encoder, prng.word(r, 1, 6)) // YXmlHook name
        return 1
      }
      case Ref.Deleted: {
        const length = prng.int32(r, 1, 5)
        encoding.writeVarUint(encoder, length)
        return length
      }
      case Ref.Format:
        encoding.writeVarString(encoder, this.#pick(['bold', 'italic', 'link', prng.word(r, 1, 4)]))
        encoding.writeVarString(encoder, this.#chance(0.9) ? JSON.stringify(this.#chance(0.5) ? true : null) : '{not json')
        return 1
      case Ref.Embed:
        encoding.writeVarString(encoder, this.#chance(0.9) ? JSON.stringify({ image: prng.word(r, 1, 5) }) : '[[')
        return 1
      case Ref.Binary:
        encoding.writeVarUint8Array(encoder, prng.uint8Array(r, prng.int32(r, 0, 8)))
        return 1
      case Ref.JSON: {
        const count = prng.int32(r, 1, 2)
        encoding.writeVarUint(encoder, count)
        for (let i = 0; i < count; i++) encoding.writeVarString(encoder, this.#chance(0.8) ? JSON.stringify(prng.word(r, 0, 4)) : 'undefined')
        return count
      }
      case Ref.Doc:
        encoding.writeVarString(encoder, prng.word(r, 4, 10))
        encoding.writeAny(encoder, this.#chance(0.5) ? {} : { gc: false })
        return 1
      default:
        throw new Error(`no content for ref ${ref}`)
    }
  }

  /** An id a struct may point at: known ones, its own client's past or future, someone's future, or noise. */
  #reference(self: Id): Id {
    const r = this.#rng
    const roll = r.next()
    if (roll < 0.45 && this.#known.length) {
      const known = this.#pick(this.#known)
      return { client: known.client, clock: known.clock + prng.int32(r, 0, Math.max(0, known.length - 1)) }
    }
    if (roll < 0.6) return { client: self.client, clock: prng.int32(r, self.clock, self.clock + 8) }
    if (roll < 0.7 && self.clock > 0) return { client: self.client, clock: prng.int32(r, 0, self.clock - 1) }
    if (roll < 0.85) {
      const client = this.#pick(this.#clients)
      return { client, clock: (this.#next.get(client) ?? 0) + prng.int32(r, 0, 10) }
    }
    return { client: this.#pick(this.#clients), clock: prng.int32(r, 0, 1 << 20) }
  }

  #deleteSet(encoder: encoding.Encoder): void {
    const r = this.#rng
    const clients = this.#chance(0.7) ? 0 : prng.int32(r, 1, 2)
    encoding.writeVarUint(encoder, clients)
    for (let i = 0; i < clients; i++) {
      const client = this.#pick(this.#clients)
      const ranges = prng.int32(r, 1, 3)
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, ranges)
      for (let j = 0; j < ranges; j++) {
        encoding.writeVarUint(encoder, prng.int32(r, 0, (this.#next.get(client) ?? 0) + 5))
        encoding.writeVarUint(encoder, prng.int32(r, 0, 6))
      }
    }
  }

  #key(): string {
    return this.#chance(0.7) ? this.#pick(['title', 'text', 'enabled', 'order', 'a', 'b']) : prng.word(this.#rng, 0, 6)
  }

  #chance(p: number): boolean {
    return this.#rng.next() < p
  }

  #pick<T>(items: readonly T[]): T {
    return items[prng.int32(this.#rng, 0, items.length - 1)]
  }
}

function writeId(encoder: encoding.Encoder, id: Id): void {
  encoding.writeVarUint(encoder, id.client)
  encoding.writeVarUint(encoder, id.clock)
}

/** Byte-level damage to a valid frame: flips, truncation, insertion, duplication. */
export function mutateFrame(rng: Rng, frame: Uint8Array): Uint8Array {
  const bytes = Array.from(frame)
  const mutations = prng.int32(rng, 1, 3)
  for (let i = 0; i < mutations; i++) {
    const at = prng.int32(rng, 0, Math.max(0, bytes.length - 1))
    const roll = rng.next()
    if (roll < 0.4) bytes[at] = prng.uint32(rng, 0, 255)
    else if (roll < 0.55) bytes[at] ^= 1 << prng.int32(rng, 0, 7)
    else if (roll < 0.7) bytes.length = at
    else if (roll < 0.85) bytes.splice(at, 0, ...prng.uint8Array(rng, prng.int32(rng, 1, 6)))
    else bytes.splice(at, 0, ...bytes.slice(at, at + prng.int32(rng, 1, 8)))
  }
  return Uint8Array.from(bytes)
}

/** An ordinary update a real Y.Doc makes, from one of the generator's own clients: the base of mutated frames. */
export function realUpdate(rng: Rng, client: number): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  let update: Uint8Array | null = null
  doc.on('update', (u: Uint8Array) => (update = u))
  const roll = rng.next()
  if (roll < 0.4) doc.getMap('fuzz').set(prng.word(rng, 1, 4), prng.word(rng, 0, 12))
  else if (roll < 0.7) doc.getText('texts').insert(0, prng.utf16String(rng, prng.int32(rng, 1, 12)) || 'x')
  else doc.getArray('items').insert(0, [prng.int32(rng, 0, 99), { nested: prng.word(rng, 0, 5) }])
  doc.destroy()
  return update!
}

import * as binary from 'lib0/binary'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/** Yjs' content reference of a ContentString item (the low five bits of a struct's info byte). */
const CONTENT_STRING = 4

/** A string item as the batch holds it: consecutive typed rows of one client become one. */
interface Run {
  clock: number
  length: number
  originClient: number
  originClock: number
  /** -1: no right origin (typed at the end). */
  rightClient: number
  rightClock: number
  text: string[]
}

/**
 * Log rows of the two shapes typing produces, gathered into one update for
 * the fold (foldLog) to apply in one call: most of a long log's cost is Yjs'
 * per-update work (decoding, a transaction's bookkeeping, integrating a
 * one-character item and merging it with its neighbour afterwards), not the
 * characters. Measured on 100k planted one-character edits: applied one by
 * one 225–265 ms plus 90–100 ms for each row's integration check (which
 * decodes it into Yjs objects); `Y.mergeUpdates` of chunks of 10–500 rows
 * before applying was slower still (0.5–1.4 s).
 *
 * The shapes, read straight from the V1 bytes (no Yjs objects):
 *
 * - **typed**: one string item of one client with an origin and nothing
 *   else (no deletions, no parent info, no map key). A row that continues
 *   the client's last run (its clock follows it, its origin is the run's
 *   last character, the same right origin) extends the run's string: that is
 *   the item Yjs itself makes of them when it merges neighbours after a
 *   transaction, and an item of n characters means to Yjs exactly n items
 *   each after the one before (it splits it wherever another item points
 *   inside). Otherwise it starts a run.
 * - **deleted**: a delete set only.
 *
 * A row is taken only when it passes what integrationProblem checks, done
 * here on the parsed numbers: safe integers, a non-empty string, no
 * reference to its own client at or after itself, deleted ranges that are
 * not empty; and it must integrate at once, with no overlap or gap: an item
 * exactly at its client's next clock (what the doc and the batch hold), a
 * deletion only of clocks the doc or the batch holds. Anything else (the
 * first character of a document, pastes with formatting, maps, resent or
 * out-of-order updates, whatever a hostile client makes) is not taken: the
 * fold drains the batch, then checks and applies that row alone as before,
 * so a row that would not integrate is still found and quarantined.
 *
 * The batch's result is the one of applying its rows in order: Yjs converges
 * whatever the order of updates, and within the batch nothing is left
 * pending.
 */
export class TypingRuns {
  private readonly doc: Y.Doc
  /** Per client, its runs in clock order (consecutive clocks). */
  private readonly runs = new Map<number, Run[]>()
  /** Per client, the ranges deleted, in the order of the rows. */
  private readonly deleted = new Map<number, Array<[clock: number, length: number]>>()
  /** Per client, the next clock as the doc and the batch hold it together. */
  private readonly ends = new Map<number, number>()
  /** Rows taken since the last drain. */
  rows = 0

  constructor(doc: Y.Doc) {
    this.doc = doc
  }

  /** The row being read: bytes[at, limit). */
  private bytes: Uint8Array = new Uint8Array(0)
  private at = 0
  private limit = 0

  /**
   * Takes the row `bytes[start, end)` when it is of a shape the batch holds
   * (see above); false: not taken, the batch is unchanged.
   */
  take(bytes: Uint8Array, start: number, end: number): boolean {
    this.bytes = bytes
    this.at = start
    this.limit = end
    try {
      return this.read()
    } catch {
      // Malformed or truncated: the row's own check says what is wrong with it.
      return false
    }
  }

  private read(): boolean {
    const clients = this.varUint()
    if (clients === 0) return this.readDeletions()
    if (clients !== 1 || this.varUint() !== 1) return false
    const client = this.varUint()
    const clock = this.varUint()
    const info = this.byte()
    if ((info & binary.BITS5) !== CONTENT_STRING || (info & binary.BIT8) === 0 || (info & binary.BIT6) !== 0) return false
    const originClient = this.varUint()
    const originClock = this.varUint()
    const hasRight = (info & binary.BIT7) !== 0
    const rightClient = hasRight ? this.varUint() : -1
    const rightClock = hasRight ? this.varUint() : -1
    const text = this.string()
    if (this.varUint() !== 0 || this.at !== this.limit) return false
    const length = text.length
    if (length === 0 || !safe(client) || !safe(clock + length) || !safe(originClient) || !safe(originClock) || !safe(rightClient + 1) || !safe(rightClock + 1)) return false
    if (originClient === client && originClock >= clock) return false
    if (hasRight && rightClient === client && rightClock >= clock) return false
    if (clock !== this.end(client)) return false
    // Its origins must be known already (in the doc or taken before it), or
    // Yjs would hold it pending: such a row goes the way of every other row.
    if (originClient !== client && originClock >= this.end(originClient)) return false
    if (hasRight && rightClient !== client && rightClock >= this.end(rightClient)) return false

    let runs = this.runs.get(client)
    if (!runs) this.runs.set(client, (runs = []))
    const last = runs[runs.length - 1]
    if (last && originClient === client && originClock === clock - 1 && last.rightClient === rightClient && last.rightClock === rightClock) {
      last.text.push(text)
      last.length += length
    } else {
      runs.push({ clock, length, originClient, originClock, rightClient, rightClock, text: [text] })
    }
    this.ends.set(client, clock + length)
    this.rows += 1
    return true
  }

  private readDeletions(): boolean {
    const clients = this.varUint()
    if (clients === 0) return false
    const read: number[] = []
    for (let c = 0; c < clients; c++) {
      const client = this.varUint()
      const ranges = this.varUint()
      const end = this.end(client)
      for (let r = 0; r < ranges; r++) {
        const clock = this.varUint()
        const length = this.varUint()
        if (length === 0 || !safe(client) || !safe(clock + length) || clock + length > end) return false
        read.push(client, clock, length)
      }
    }
    if (this.at !== this.limit) return false
    for (let i = 0; i < read.length; i += 3) {
      let ranges = this.deleted.get(read[i])
      if (!ranges) this.deleted.set(read[i], (ranges = []))
      ranges.push([read[i + 1], read[i + 2]])
    }
    this.rows += 1
    return true
  }

  private byte(): number {
    if (this.at >= this.limit) throw new RangeError('unexpected end')
    return this.bytes[this.at++]
  }

  /**
   * lib0's readVarUint (what Yjs reads with), so a safe integer or a throw.
   * On locals, not `this.at`: most of a typing row is multi-byte numbers
   * (client ids are 5 bytes, clocks 2–3), and reading them through the
   * fields was a quarter of a 100k-row fold's time.
   */
  private varUint(): number {
    const bytes = this.bytes
    const limit = this.limit
    let at = this.at
    let value = 0
    let multiplier = 1
    for (;;) {
      if (at >= limit) throw new RangeError('unexpected end')
      const byte = bytes[at++]
      value += (byte & 0x7f) * multiplier
      if (byte < 0x80) {
        this.at = at
        return value
      }
      multiplier *= 128
      if (value > Number.MAX_SAFE_INTEGER) throw new RangeError('integer out of range')
    }
  }

  /** lib0's readVarString; ASCII (what typing mostly is) without a TextDecoder call, which costs more than a short string. */
  private string(): string {
    const lengthAt = this.at
    const length = this.varUint()
    const from = this.at
    const to = from + length
    if (to > this.limit) throw new RangeError('unexpected end')
    if (length <= 8) {
      let ascii = ''
      for (let i = from; i < to; i++) {
        const code = this.bytes[i]
        if (code >= 0x80) return this.decodedString(lengthAt, length)
        ascii += String.fromCharCode(code)
      }
      this.at = to
      return ascii
    }
    return this.decodedString(lengthAt, length)
  }

  private decodedString(lengthAt: number, length: number): string {
    const text = decoding.readVarString(decoding.createDecoder(this.bytes.subarray(lengthAt, this.limit)))
    this.at += length
    return text
  }

  /** The client's next clock: what the batch holds beyond the doc, else the doc's state. */
  private end(client: number): number {
    return this.ends.get(client) ?? Y.getState(this.doc.store, client)
  }

  /**
   * The taken rows as one V1 update (Yjs' own layout: per client the count
   * of structs, the client, the first clock, each struct; then the delete
   * set), and an empty batch; null when nothing was taken.
   */
  drain(): Uint8Array | null {
    if (this.rows === 0) return null
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, this.runs.size)
    for (const [client, runs] of this.runs) {
      encoding.writeVarUint(encoder, runs.length)
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, runs[0].clock)
      for (const run of runs) {
        const hasRight = run.rightClient !== -1
        encoding.writeUint8(encoder, CONTENT_STRING | binary.BIT8 | (hasRight ? binary.BIT7 : 0))
        encoding.writeVarUint(encoder, run.originClient)
        encoding.writeVarUint(encoder, run.originClock)
        if (hasRight) {
          encoding.writeVarUint(encoder, run.rightClient)
          encoding.writeVarUint(encoder, run.rightClock)
        }
        encoding.writeVarString(encoder, run.text.length === 1 ? run.text[0] : run.text.join(''))
      }
    }
    encoding.writeVarUint(encoder, this.deleted.size)
    for (const [client, ranges] of this.deleted) {
      encoding.writeVarUint(encoder, client)
      encoding.writeVarUint(encoder, ranges.length)
      for (const [clock, length] of ranges) {
        encoding.writeVarUint(encoder, clock)
        encoding.writeVarUint(encoder, length)
      }
    }
    this.runs.clear()
    this.deleted.clear()
    this.ends.clear()
    this.rows = 0
    return encoding.toUint8Array(encoder)
  }
}

function safe(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0
}

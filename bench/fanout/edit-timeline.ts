import * as decoding from 'lib0/decoding'
import * as Y from 'yjs'

interface EditRecord {
  sentAt: number
  arrivals: number
  firstAt: number
  lastAt: number
}

export interface LatencyStats {
  p50: number
  p99: number
  max: number
  mean: number
}

/**
 * When each edit was sent and when each reader received it. An edit is
 * identified by its Yjs clock: the writer is the document's only author and
 * each edit adds exactly one item, so edit n has clock n.
 */
export class EditTimeline {
  private readonly readers: number
  private readonly edits = new Map<number, EditRecord>()

  constructor(readers: number) {
    this.readers = readers
  }

  sent(clock: number, at: number): void {
    this.edits.set(clock, { sentAt: at, arrivals: 0, firstAt: Infinity, lastAt: 0 })
  }

  /** Records the edits an incoming update carries. */
  received(update: Uint8Array, at: number): void {
    for (const clock of clocksOf(update)) {
      const edit = this.edits.get(clock)
      if (!edit) continue
      edit.arrivals += 1
      if (at < edit.firstAt) edit.firstAt = at
      if (at > edit.lastAt) edit.lastAt = at
    }
  }

  /** True once every reader has every edit sent so far. */
  complete(): boolean {
    for (const edit of this.edits.values()) if (edit.arrivals < this.readers) return false
    return true
  }

  /**
   * Per measured edit (clock ≥ `from`) received by every reader: ms from
   * sending to the last and to the first reader receiving it; plus how many
   * measured edits some reader never received.
   */
  latencies(from: number): { last: number[]; first: number[]; incomplete: number } {
    const measured = [...this.edits.entries()].filter(([clock]) => clock >= from).map(([, edit]) => edit)
    const done = measured.filter((edit) => edit.arrivals === this.readers)
    return {
      last: done.map((edit) => edit.lastAt - edit.sentAt),
      first: done.map((edit) => edit.firstAt - edit.sentAt),
      incomplete: measured.length - done.length,
    }
  }
}

/** Clocks of the items in an update; reads the header only in the common one-item case. */
function clocksOf(update: Uint8Array): number[] {
  const decoder = decoding.createDecoder(update)
  if (decoding.readVarUint(decoder) === 1 && decoding.readVarUint(decoder) === 1) {
    decoding.readVarUint(decoder) // client
    const clock = decoding.readVarUint(decoder)
    const info = decoding.readUint8(decoder)
    // An Item (not GC/Skip) holding a single value: exactly one edit.
    if ((info & 0b11111) === 8 /* ContentAny */) return [clock]
  }
  const clocks: number[] = []
  for (const struct of Y.decodeUpdate(update).structs) {
    if (!(struct instanceof Y.Item)) continue
    for (let i = 0; i < struct.length; i++) clocks.push(struct.id.clock + i)
  }
  return clocks
}

export function summarise(values: number[]): LatencyStats {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN, mean: NaN }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
  const round = (value: number) => Math.round(value * 100) / 100
  return {
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1]),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length),
  }
}

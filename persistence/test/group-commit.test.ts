import { describe, expect, it } from 'vitest'
import { GroupCommitter, type Queryable } from '../src/index.ts'

/** A database whose INSERTs take one turn of the event loop, recording each batch's rows (document names). */
function recordingDatabase(): Queryable & { batches: string[][] } {
  const batches: string[][] = []
  return {
    batches,
    async query<Row>(_sql: string, params: unknown[] = []): Promise<Row[]> {
      batches.push([...(params[0] as string[])])
      await new Promise((resolve) => setImmediate(resolve))
      return []
    },
    async exec(): Promise<void> {},
  }
}

/** A database whose INSERTs finish when the test opens their gates (and at once after that). */
function gatedDatabase(): Queryable & { batches: string[][]; openGates: () => void } {
  const batches: string[][] = []
  const gates: Array<() => void> = []
  let open = false
  return {
    batches,
    openGates: () => {
      open = true
      for (const gate of gates.splice(0)) gate()
    },
    async query<Row>(_sql: string, params: unknown[] = []): Promise<Row[]> {
      batches.push([...(params[0] as string[])])
      if (!open) await new Promise<void>((resolve) => gates.push(resolve))
      return []
    },
    async exec(): Promise<void> {},
  }
}

const update = Uint8Array.of(1, 2, 3)

describe('GroupCommitter', () => {
  it('sends a lone append at once and the rest of its turn of the event loop together, not one by one', async () => {
    const db = recordingDatabase()
    const committer = new GroupCommitter(db, { maxInFlight: 2 })
    // As messages read from several sockets in one I/O phase.
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => committer.append(name, update)))
    expect(db.batches).toEqual([['a'], ['b', 'c', 'd', 'e']])
  })

  it('sends what queued during a commit as the next batch, and flush waits for all of it', async () => {
    const db = gatedDatabase()
    const committer = new GroupCommitter(db, { maxInFlight: 1 })
    const committed: string[] = []
    const append = (name: string) => committer.append(name, update).then(() => committed.push(name))
    void append('a')
    // 'a' is in flight and the one slot taken: these wait for it.
    void append('b')
    void append('c')
    const flushed = committer.flush()
    db.openGates()
    await flushed
    expect(committed).toEqual(['a', 'b', 'c'])
    expect(db.batches).toEqual([['a'], ['b', 'c']])
  })

  it('flush commits an append whose batch has not been sent yet', async () => {
    const db = gatedDatabase()
    const committer = new GroupCommitter(db, { maxInFlight: 2 })
    const committed: string[] = []
    void committer.append('a', update).then(() => committed.push('a'))
    // A slot is free, but it is filled at the end of this I/O phase.
    void committer.append('b', update).then(() => committed.push('b'))
    const flushed = committer.flush()
    db.openGates()
    await flushed
    expect(committed).toEqual(['a', 'b'])
  })
})

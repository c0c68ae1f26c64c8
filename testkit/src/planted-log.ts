// Long update logs planted straight into PostgreSQL, as a document would
// have them after a long time without a successful compaction. Shared with
// the benchmarks (bench/suites/longlog.ts) and server/test/long-log.test.ts.
import type { Queryable } from '@botsync/persistence'
import * as Y from 'yjs'

export interface TypingSession {
  /** One update per keystroke, in the order they were made. */
  updates: Uint8Array[]
  /** The document after them (the planted snapshot applied first, if any). */
  doc: Y.Doc
}

/**
 * `count` one-character edits on a real Y.Doc's text `root`, as people type:
 * mostly at the cursor, sometimes a backspace, now and then the cursor jumps
 * elsewhere, and every 5,000 keystrokes a new session (a new Yjs client id,
 * as after a reload). Deterministic for a given seed.
 */
export function typingSession(count: number, options: { doc?: Y.Doc; root?: string; seed?: number } = {}): TypingSession {
  const doc = options.doc ?? new Y.Doc()
  const text = doc.getText(options.root ?? 'message')
  let seed = options.seed ?? 1
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff
  const updates: Uint8Array[] = []
  const record = (update: Uint8Array) => updates.push(update)
  doc.on('update', record)
  let cursor = text.length
  for (let i = 0; i < count; i++) {
    if (i % 5000 === 0) doc.clientID = 1 + Math.floor(random() * 0x7ffffffe)
    const roll = random()
    if (roll < 0.02) cursor = Math.floor(random() * (text.length + 1))
    if (roll > 0.95 && cursor > 0) {
      text.delete(cursor - 1, 1)
      cursor -= 1
    } else {
      text.insert(cursor, String.fromCharCode(97 + (i % 26)))
      cursor += 1
    }
  }
  doc.off('update', record)
  return { updates, doc }
}

/** Appends `updates` to the document's log in id order, in multi-row INSERTs of 50k rows. Returns their ids. */
export async function plantLog(db: Queryable, name: string, updates: Uint8Array[]): Promise<number[]> {
  const ids: number[] = []
  for (let start = 0; start < updates.length; start += 50_000) {
    const batch = updates.slice(start, start + 50_000).map((update) => Buffer.from(update.buffer, update.byteOffset, update.byteLength))
    const rows = await db.query<{ id: number }>(
      `INSERT INTO document_updates (name, update)
       SELECT $1, u FROM unnest($2::bytea[]) WITH ORDINALITY AS t(u, n) ORDER BY n
       RETURNING id`,
      [name, batch],
    )
    ids.push(...rows.map((row) => Number(row.id)).sort((a, b) => a - b))
  }
  return ids
}

/** Stores `state` as the document's compacted snapshot. */
export async function plantSnapshot(db: Queryable, name: string, state: Uint8Array): Promise<void> {
  await db.query(
    `INSERT INTO documents (name, snapshot, compacted_at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO UPDATE SET snapshot = excluded.snapshot`,
    [name, Buffer.from(state.buffer, state.byteOffset, state.byteLength)],
  )
}

/**
 * A Y.Doc of about `bytes` encoded: `steps` of a scenario-like array, each a
 * map with a title and a message text typed in a few bursts (so the state is
 * many items, not one long string).
 */
export function largeDocument(bytes: number): Y.Doc {
  const doc = new Y.Doc()
  const steps = doc.getArray<Y.Map<unknown>>('steps')
  const paragraph = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor. '
  let i = 0
  while (Y.encodeStateAsUpdate(doc).byteLength < bytes) {
    doc.transact(() => {
      for (let k = 0; k < 200; k++, i++) {
        const step = new Y.Map<unknown>()
        const message = new Y.Text()
        step.set('title', `step ${i}`)
        step.set('message', message)
        steps.push([step])
        for (let burst = 0; burst < 4; burst++) message.insert(message.length, paragraph.repeat(3))
      }
    })
  }
  return doc
}

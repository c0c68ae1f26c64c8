import { randomUUID } from 'node:crypto'
import * as Y from 'yjs'
import { openDatabase, type Database } from '../src/index.ts'

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Both engines botsync runs on: a real server and the embedded one. */
export const engines: Array<[string, () => Promise<Database>]> = [
  ['postgres', () => openDatabase({ databaseUrl: DATABASE_URL, poolSize: 4 })],
  ['pglite', () => openDatabase({})],
]

/** Document names unique to one test run, so parallel files never collide. */
export function uniqueName(label: string): string {
  return `test-${randomUUID().slice(0, 8)}/${label}`
}

/** Makes one small edit on `doc` and returns the update it produced. */
export function edit(doc: Y.Doc, change: (doc: Y.Doc) => void): Uint8Array {
  let captured: Uint8Array | null = null
  const listener = (update: Uint8Array) => {
    captured = captured ? Y.mergeUpdates([captured, update]) : update
  }
  doc.on('update', listener)
  doc.transact(() => change(doc))
  doc.off('update', listener)
  if (!captured) throw new Error('edit produced no update')
  return captured
}

export function docFrom(state: Uint8Array | null): Y.Doc {
  const doc = new Y.Doc()
  if (state) Y.applyUpdate(doc, state)
  return doc
}

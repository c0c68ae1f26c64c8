// Cost of the write path's integration check (persistence/src/update-
// integrity.ts) on a ~1 MB document, in-process: what every client update
// pays before it is appended.
//
// The document is built the way admins build one: several clients typing
// and deleting at random positions of a Y.Text, synced, until its encoded
// state is ~1 MB (many small structs, the costly shape for anything that
// walks the document). Measured per update, with performance.now():
// - `oneCharacterUs`: one-character inserts at random positions (typing);
// - `paste100KbUs`: one 100 KB insert;
// - `applyToCopyUs` for contrast: the obvious alternative oracle (copy the
//   document, apply, see whether it throws), per one-character update.
import * as Y from 'yjs'
import { integrationProblem } from '@botsync/persistence'
import { percentile } from '../lib/percentiles.ts'

const TARGET_DOCUMENT_BYTES = 1024 * 1024
const ONE_CHAR_SAMPLES = 5000
const PASTE_SAMPLES = 50
const COPY_SAMPLES = 10

function summary(samples: number[]): { p50: number; p99: number; samples: number } {
  const sorted = [...samples].sort((a, b) => a - b)
  const us = (ms: number) => Math.round(ms * 1000 * 10) / 10
  return { p50: us(percentile(sorted, 50)), p99: us(percentile(sorted, 99)), samples: sorted.length }
}

function buildDocument(): Y.Doc {
  const doc = new Y.Doc()
  const writers = [1, 2, 3].map((id) => {
    const writer = new Y.Doc()
    writer.clientID = 1000 + id
    return writer
  })
  let seed = 1
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
  while (Y.encodeStateAsUpdate(doc).byteLength < TARGET_DOCUMENT_BYTES) {
    for (const writer of writers) {
      const text = writer.getText('body')
      for (let i = 0; i < 2000; i++) {
        const at = Math.floor(random() * (text.length + 1))
        if (random() < 0.15 && text.length > 0) text.delete(Math.min(at, text.length - 1), 1)
        else text.insert(at, String.fromCharCode(97 + Math.floor(random() * 26)).repeat(1 + Math.floor(random() * 8)))
      }
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer, Y.encodeStateVector(doc)))
    }
    for (const writer of writers) Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(writer)))
  }
  return doc
}

export default async function run(): Promise<Record<string, unknown>> {
  const doc = buildDocument()
  const documentBytes = Y.encodeStateAsUpdate(doc).byteLength
  const editor = new Y.Doc()
  editor.clientID = 77
  Y.applyUpdate(editor, Y.encodeStateAsUpdate(doc))
  const text = editor.getText('body')
  const next = (change: () => void): Uint8Array => {
    let captured: Uint8Array | null = null
    const listener = (update: Uint8Array) => (captured = update)
    editor.on('update', listener)
    change()
    editor.off('update', listener)
    return captured!
  }

  const oneChar: number[] = []
  for (let i = 0; i < ONE_CHAR_SAMPLES; i++) {
    const update = next(() => text.insert(Math.floor(Math.random() * text.length), 'x'))
    const started = performance.now()
    const problem = integrationProblem(doc, update)
    oneChar.push(performance.now() - started)
    if (problem) throw new Error(`an honest update was refused: ${problem}`)
    Y.applyUpdate(doc, update)
  }
  const paste: number[] = []
  const pasted = 'lorem ipsum '.repeat(Math.ceil(100_000 / 12)).slice(0, 100_000)
  for (let i = 0; i < PASTE_SAMPLES; i++) {
    const update = next(() => text.insert(Math.floor(Math.random() * text.length), pasted))
    const started = performance.now()
    const problem = integrationProblem(doc, update)
    paste.push(performance.now() - started)
    if (problem) throw new Error(`an honest paste was refused: ${problem}`)
  }
  const copy: number[] = []
  for (let i = 0; i < COPY_SAMPLES; i++) {
    const update = next(() => text.insert(Math.floor(Math.random() * text.length), 'x'))
    const started = performance.now()
    const scratch = new Y.Doc()
    Y.applyUpdate(scratch, Y.encodeStateAsUpdate(doc))
    Y.applyUpdate(scratch, update)
    copy.push(performance.now() - started)
    scratch.destroy()
  }

  const oneCharacterUs = summary(oneChar)
  const paste100KbUs = summary(paste)
  return {
    documentBytes,
    documentStructs: [...doc.store.clients.values()].reduce((n, structs) => n + structs.length, 0),
    oneCharacterUs,
    paste100KbUs,
    applyToCopyUs: summary(copy),
    targets: {
      oneCharacterP99Us: { target: '≤ 100 µs', met: oneCharacterUs.p99 <= 100 },
      paste100KbP99Us: { target: '≤ 1,000 µs', met: paste100KbUs.p99 <= 1000 },
    },
  }
}

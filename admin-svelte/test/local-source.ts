// A DocumentSource over plain Y.Docs with no network: what the state classes
// need in unit tests. Documents can be seeded with the real demo seed, and
// two sources can be linked to behave like two admins on one server.
import { demoSeed } from '@botsync/shared-docs'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { DocumentSource, OpenDocument } from '../src/lib/connection/open-document.ts'

export class LocalDocument implements OpenDocument {
  readonly name: string
  readonly doc = new Y.Doc()
  readonly awareness: Awareness
  readOnly = false
  loaded = true
  serverSynced = true
  readonly ready = Promise.resolve()

  constructor(name: string) {
    this.name = name
    this.awareness = new Awareness(this.doc)
  }
}

export class LocalSource implements DocumentSource {
  readonly documents = new Map<string, LocalDocument>()
  readonly opened: string[] = []
  readonly released: string[] = []
  readOnly = false

  static seeded(space: string): LocalSource {
    const source = new LocalSource()
    for (const [name, update] of demoSeed(space)) Y.applyUpdate(source.document(name).doc, update, 'seed')
    return source
  }

  document(name: string): LocalDocument {
    let document = this.documents.get(name)
    if (!document) {
      document = new LocalDocument(name)
      document.readOnly = this.readOnly
      this.documents.set(name, document)
    }
    return document
  }

  open(name: string): OpenDocument {
    this.opened.push(name)
    return this.document(name)
  }

  release(document: OpenDocument): void {
    this.released.push(document.name)
  }
}

/** Keeps `a` and `b` in sync like a server would: updates cross with origin 'remote'. */
export function link(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a), 'remote')
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b), 'remote')
  a.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') Y.applyUpdate(b, update, 'remote')
  })
  b.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'remote') Y.applyUpdate(a, update, 'remote')
  })
}

// What page state classes need from an open document. DocumentHandle (the
// real thing: IndexedDB + provider) implements it; unit tests use a bare
// Y.Doc with an Awareness, with no network behind it.
import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'

export interface OpenDocument {
  readonly name: string
  readonly doc: Y.Doc
  readonly awareness: Awareness
  /** True when this user may not change the document (viewer, or the activity document). */
  readonly readOnly: boolean
  /** True once the content can be shown: from this device's copy or from the server. */
  readonly loaded: boolean
  /** Synced with the server at least once (later changes from the server are live ones). */
  readonly serverSynced: boolean
  /** Resolves once the document can be edited (local copy loaded, provider attached). */
  readonly ready: Promise<void>
}

/** Opens documents by name and releases them when a page no longer shows them. */
export interface DocumentSource {
  open(name: string): OpenDocument
  release(document: OpenDocument): void
}

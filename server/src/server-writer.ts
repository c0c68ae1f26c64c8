import type { Hocuspocus } from '@hocuspocus/server'
import type { DocumentStore } from '@botsync/persistence'
import * as Y from 'yjs'
import { STORED_ORIGIN } from './origins.ts'
import { commitFirst } from './writes/commit-first.ts'

/**
 * Changes the server makes itself (seed, restore, activity, an import). Like a client's
 * edit, a server change is committed first and only then applied to the live
 * document (commitFirst), so nobody ever sees a change that a crash could
 * take back.
 */
export class ServerWriter {
  private readonly store: DocumentStore
  private readonly hocuspocus: () => Hocuspocus
  private readonly queues = new Map<string, Promise<unknown>>()

  constructor(store: DocumentStore, hocuspocus: () => Hocuspocus) {
    this.store = store
    this.hocuspocus = hocuspocus
  }

  /**
   * Runs `change` against the current state; serialised per document.
   * `authorId`: the admin it is made for (stored as the update's author); omitted: the server.
   */
  change(documentName: string, change: (doc: Y.Doc) => void, options: { authorId?: string | null } = {}): Promise<Uint8Array | null> {
    const previous = this.queues.get(documentName) ?? Promise.resolve()
    const next = previous.catch(() => {}).then(() => this.apply(documentName, change, options.authorId ?? null))
    this.queues.set(documentName, next)
    void next
      .finally(() => {
        if (this.queues.get(documentName) === next) this.queues.delete(documentName)
      })
      .catch(() => {})
    return next
  }

  /**
   * The document's current state: the live copy when it is loaded, the
   * stored one otherwise; after every change requested so far (an export
   * right after an import sees it).
   */
  read(documentName: string): Promise<Uint8Array | null> {
    const previous = this.queues.get(documentName) ?? Promise.resolve()
    return previous.catch(() => {}).then(() => this.current(documentName))
  }

  /** Resolves once every change requested so far has finished (shutdown). */
  async drain(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()])
  }

  private async apply(documentName: string, change: (doc: Y.Doc) => void, authorId: string | null): Promise<Uint8Array | null> {
    const base = await this.current(documentName)
    return commitFirst(
      this.store,
      documentName,
      base,
      change,
      (update) => {
        this.applyInMemory(documentName, update)
        // A load that raced this append may have read the database before the
        // commit; applying again once it finishes is idempotent.
        const loading = this.hocuspocus().loadingDocuments.get(documentName)
        if (loading) void loading.then(() => this.applyInMemory(documentName, update)).catch(() => {})
      },
      authorId,
    )
  }

  private async current(documentName: string): Promise<Uint8Array | null> {
    const live = this.hocuspocus().documents.get(documentName)
    return live ? Y.encodeStateAsUpdate(live) : (await this.store.load(documentName)).state
  }

  private applyInMemory(documentName: string, update: Uint8Array): void {
    const document = this.hocuspocus().documents.get(documentName)
    if (document) Y.applyUpdate(document, update, STORED_ORIGIN)
  }
}

import type { afterUnloadDocumentPayload, Extension, onLoadDocumentPayload } from '@hocuspocus/server'
import type { DocumentStore } from '@botsync/persistence'
import { parseDocumentName } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'
import { SpacePublicProjection } from './space-public-projection.ts'

/**
 * Keeps `<space>/public` documents in sync with their source documents while
 * they are loaded (one SpacePublicProjection per loaded public document),
 * whoever loaded them: the reader gateway for Mini App readers, or an admin
 * looking at it read-only on /collab. It comes after DurablePersistence in
 * the extension chain (extension-chain.ts), so the stored state is loaded
 * before the projection starts.
 */
export class PublicContent implements Extension {
  extensionName = 'botsync-public-content'
  private readonly store: DocumentStore
  private readonly log: Logger
  private readonly projections = new Map<string, SpacePublicProjection>()

  constructor(store: DocumentStore, log: Logger) {
    this.store = store
    this.log = log
  }

  async onLoadDocument({ documentName, document, instance }: onLoadDocumentPayload): Promise<void> {
    const parsed = parseDocumentName(documentName)
    if (parsed?.kind !== 'public') return
    const projection = new SpacePublicProjection({ space: parsed.space, target: document, hocuspocus: instance, store: this.store, log: this.log })
    this.projections.set(documentName, projection)
    try {
      // Up to date before the first reader syncs: whatever was stored may be
      // stale (e.g. a scenario unpublished while nobody was reading).
      await projection.start()
    } catch (error) {
      this.projections.delete(documentName)
      await projection.stop()
      throw error
    }
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const projection = this.projections.get(documentName)
    if (!projection) return
    this.projections.delete(documentName)
    await projection.stop()
  }

  async onDestroy(): Promise<void> {
    const projections = [...this.projections.values()]
    this.projections.clear()
    await Promise.all(projections.map((projection) => projection.stop()))
  }
}

import { scratchDoc } from '@botsync/shared-docs'
import type { DocumentStore } from '@botsync/persistence'
import * as Y from 'yjs'
import { isEmptyUpdate } from '../client-frame.ts'

/**
 * A change the server makes itself, on the same terms as a client's edit:
 * `change` runs (in one transaction) on a scratch copy of `base`, the
 * resulting update is appended to the store, and only once it is committed
 * is `applyCommitted` handed the update to apply to the live document(s),
 * with STORED_ORIGIN. So nobody ever sees a change that a crash could take
 * back. Resolves with the committed update, or null when `change` changed
 * nothing (then nothing is stored or applied). `authorId`: the admin the
 * change is made for (a restore they asked for), stored as its author; by
 * default null, the server.
 *
 * Used by ServerWriter (seed, restore, activity) and by the public
 * projection, which writes `<space>/public`.
 */
export async function commitFirst(
  store: Pick<DocumentStore, 'append'>,
  documentName: string,
  base: Uint8Array | null,
  change: (doc: Y.Doc) => void,
  applyCommitted: (update: Uint8Array) => void,
  authorId: string | null = null,
): Promise<Uint8Array | null> {
  const scratch = scratchDoc()
  try {
    if (base) Y.applyUpdate(scratch, base)
    // The transaction's own update, not encodeStateAsUpdate(scratch, before):
    // that one always carries the document's whole delete set, so a change
    // that changed nothing in a document with any deletion was stored (and
    // counted) as an update. Yjs emits no update for an empty transaction.
    let update: Uint8Array | null = null
    scratch.on('update', (made: Uint8Array) => (update = update ? Y.mergeUpdates([update, made]) : made))
    scratch.transact(() => change(scratch))
    if (update === null || isEmptyUpdate(update)) return null
    await store.append(documentName, update, { authorId })
    applyCommitted(update)
    return update
  } finally {
    scratch.destroy()
  }
}

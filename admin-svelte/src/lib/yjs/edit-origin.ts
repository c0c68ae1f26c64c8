// The transaction origin of every edit this user makes in the UI. Undo
// tracks only this origin, so Ctrl+Z never reverts another admin's change
// (theirs arrive with the provider as origin) nor what IndexedDB restores.
import type * as Y from 'yjs'

export const LOCAL_EDIT = Object.freeze({ source: 'botsync-admin-ui' })

/** Runs `change` (shared-docs accessor calls) as one local, undoable edit. */
export function edit(doc: Y.Doc, change: () => void): void {
  doc.transact(change, LOCAL_EDIT)
}

import { MessageType } from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'
import { messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync'
import * as Y from 'yjs'
import type { DecodedUpdate } from '@botsync/persistence'
import { refusalMessage, type AccessLossReason } from '@botsync/shared-docs'

// Hocuspocus wire format: varString(documentName) varUint(messageType) …
// A Sync message carries varUint(syncType) varUint8Array(update) for
// SyncStep2 and Update; those are the only frames that change a document.

export class MalformedFrame extends Error {
  readonly reason = 'malformed-frame'
}

/** A client's update: the bytes to store, and their decoding for the checks before that. */
export interface ClientUpdate {
  bytes: Uint8Array
  decoded: DecodedUpdate
}

/**
 * The Yjs update a client frame would apply, or null when the frame changes
 * nothing (awareness, sync step 1, stateless …). Throws MalformedFrame when
 * the bytes do not decode, so a broken update is refused before it is stored.
 */
export function readClientUpdate(frame: Uint8Array): ClientUpdate | null {
  let update: Uint8Array
  try {
    const decoder = decoding.createDecoder(frame)
    decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    if (type !== MessageType.Sync && type !== MessageType.SyncReply) return null
    const syncType = decoding.readVarUint(decoder)
    if (syncType !== messageYjsSyncStep2 && syncType !== messageYjsUpdate) return null
    update = decoding.readVarUint8Array(decoder)
  } catch {
    throw new MalformedFrame('the message could not be decoded')
  }
  let decoded: DecodedUpdate
  try {
    // Parses every struct without applying it: a corrupt update fails here.
    decoded = Y.decodeUpdate(update)
  } catch {
    throw new MalformedFrame('the document update could not be decoded')
  }
  return isEmpty(decoded) ? null : { bytes: update, decoded }
}

/** True for an update that carries neither new structs nor deletions. */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return isEmpty(Y.decodeUpdate(update))
}

function isEmpty(decoded: DecodedUpdate): boolean {
  return decoded.structs.length === 0 && decoded.ds.clients.size === 0
}

/**
 * The stateless message a client gets when its change is refused because it
 * may only read (the admin and the bot show it; see `botsync:refused`).
 */
export function readOnlyRefusal(role: string, documentName: string): string {
  return refusalMessage('read-only', `role ${role} cannot change ${documentName}`)
}

/**
 * The stateless notice a connection gets when it loses write access while
 * open: `token-expired` (its token's `exp` passed; a fresh token restores
 * it), `role-changed` (the user's role in the space was lowered) or
 * `space-deleting` (the space is being deleted).
 */
export function accessNotice(reason: AccessLossReason, role: string, documentName: string): string {
  const message =
    reason === 'token-expired'
      ? `the session token expired; ${documentName} is read-only until a fresh token is sent`
      : reason === 'space-deleting'
        ? `the space of ${documentName} is being deleted; it is read-only until it is restored`
        : `role ${role} cannot change ${documentName}`
  return refusalMessage(reason, message)
}

// The part of the Hocuspocus wire protocol a read-only Mini App reader
// speaks, so the stock HocuspocusProvider in the page works unchanged against
// the reader gateway. Frames are `varString(key) varUint(type) …`, where key
// is the document name (or `name\0sessionId` for session-aware providers) and
// every reply echoes it. The one exception is the connection-level heartbeat:
// a single Ping byte, answered by a single Pong byte.
//
// Replies are built with Hocuspocus' own OutgoingMessage (a per-message
// encoder, not per-connection state) and its constants; only the decoding of
// what a reader may send, and the two frames OutgoingMessage has no writer
// for, are here.
import { AuthMessageType } from '@hocuspocus/common'
import { MessageType, OutgoingMessage } from '@hocuspocus/server'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { messageYjsSyncStep1, messageYjsSyncStep2, messageYjsUpdate } from 'y-protocols/sync'

/** The heartbeat the gateway sends; the provider answers with a Pong byte and counts it as traffic. */
export const PING_FRAME = Uint8Array.of(MessageType.Ping)
export const PONG_BYTE = MessageType.Pong

export class MalformedReaderFrame extends Error {
  readonly reason = 'malformed-frame'
}

/** What a reader sent, decoded as far as the gateway needs it. */
export type ReaderFrame =
  | { key: string; type: 'auth'; token: string }
  | { key: string; type: 'sync-step-1'; stateVector: Uint8Array }
  /** Sync step 2 or update: a change, which readers may not make. */
  | { key: string; type: 'write'; update: Uint8Array }
  | { key: string; type: 'query-awareness' }
  | { key: string; type: 'close' }
  /** Awareness and stateless messages: readers are invisible and have nothing to say. */
  | { key: string; type: 'ignored' }

export function decodeReaderFrame(data: Uint8Array): ReaderFrame {
  try {
    const decoder = decoding.createDecoder(data)
    const key = decoding.readVarString(decoder)
    const type = decoding.readVarUint(decoder)
    switch (type) {
      case MessageType.Auth: {
        if (decoding.readVarUint(decoder) !== AuthMessageType.Token) throw new MalformedReaderFrame('only token auth messages are accepted')
        // A provider version may follow the token; the gateway does not need it.
        return { key, type: 'auth', token: decoding.readVarString(decoder) }
      }
      case MessageType.Sync:
      case MessageType.SyncReply: {
        const step = decoding.readVarUint(decoder)
        const payload = decoding.readVarUint8Array(decoder)
        if (step === messageYjsSyncStep1) return { key, type: 'sync-step-1', stateVector: payload }
        if (step === messageYjsSyncStep2 || step === messageYjsUpdate) return { key, type: 'write', update: payload }
        throw new MalformedReaderFrame(`unknown sync step ${step}`)
      }
      case MessageType.QueryAwareness:
        return { key, type: 'query-awareness' }
      case MessageType.CLOSE:
        return { key, type: 'close' }
      case MessageType.Awareness:
      case MessageType.Stateless:
        return { key, type: 'ignored' }
      default:
        throw new MalformedReaderFrame(`message type ${type} is not accepted from readers`)
    }
  } catch (error) {
    if (error instanceof MalformedReaderFrame) throw error
    throw new MalformedReaderFrame('the message could not be decoded')
  }
}

export const encodeAuthenticated = (key: string): Uint8Array => new OutgoingMessage(key).writeAuthenticated(true).toUint8Array()

export const encodePermissionDenied = (key: string, reason: string): Uint8Array => new OutgoingMessage(key).writePermissionDenied(reason).toUint8Array()

export const encodeUpdate = (key: string, update: Uint8Array): Uint8Array => new OutgoingMessage(key).createSyncMessage().writeUpdate(update).toUint8Array()

/** "Applied" or "not applied" (a refused write stays unsynced in the provider, as on a read-only Hocuspocus connection). */
export const encodeSyncStatus = (key: string, applied: boolean): Uint8Array => new OutgoingMessage(key).writeSyncStatus(applied).toUint8Array()

export const encodeStateless = (key: string, payload: string): Uint8Array => new OutgoingMessage(key).writeStateless(payload).toUint8Array()

/**
 * Sync step 2 from an update already encoded (PublicAudience shares one for
 * every reader arriving empty); y-protocols' writer would encode it from the
 * document each time. A Sync frame, which the provider takes as "synced".
 */
export function encodeSyncStep2(key: string, update: Uint8Array): Uint8Array {
  const message = new OutgoingMessage(key).createSyncMessage()
  encoding.writeVarUint(message.encoder, messageYjsSyncStep2)
  encoding.writeVarUint8Array(message.encoder, update)
  return message.toUint8Array()
}

/** An awareness update with no clients in it: readers see nobody. (OutgoingMessage's writer needs an Awareness.) */
export function encodeEmptyAwareness(key: string): Uint8Array {
  const message = new OutgoingMessage(key)
  encoding.writeVarUint(message.encoder, MessageType.Awareness)
  encoding.writeVarUint8Array(message.encoder, Uint8Array.of(0))
  return message.toUint8Array()
}

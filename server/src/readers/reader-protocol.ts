// The part of the Hocuspocus wire protocol a read-only Mini App reader
// speaks, so the stock HocuspocusProvider in the page works unchanged against
// the reader gateway. Frames are `varString(key) varUint(type) …`, where key
// is the document name (or `name\0sessionId` for session-aware providers) and
// every reply echoes it. The one exception is the connection-level heartbeat:
// a single Ping byte, answered by a single Pong byte.
//
// Written here rather than taken from @hocuspocus/server: there these frames
// are built by the per-connection classes the gateway exists to avoid
// (ClientConnection, Connection, OutgoingMessage); the encodings below are
// the same lib0 calls they make.
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export const MessageType = {
  Sync: 0,
  Awareness: 1,
  Auth: 2,
  QueryAwareness: 3,
  SyncReply: 4,
  Stateless: 5,
  Close: 7,
  SyncStatus: 8,
  Ping: 9,
  Pong: 10,
} as const

export const SyncStep = { One: 0, Two: 1, Update: 2 } as const
const AUTH_TOKEN = 0
const AUTH_PERMISSION_DENIED = 1
const AUTH_AUTHENTICATED = 2

/** The heartbeat the gateway sends; the provider answers PONG_FRAME and counts it as traffic. */
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
        if (decoding.readVarUint(decoder) !== AUTH_TOKEN) throw new MalformedReaderFrame('only token auth messages are accepted')
        // A provider version may follow the token; the gateway does not need it.
        return { key, type: 'auth', token: decoding.readVarString(decoder) }
      }
      case MessageType.Sync:
      case MessageType.SyncReply: {
        const step = decoding.readVarUint(decoder)
        const payload = decoding.readVarUint8Array(decoder)
        if (step === SyncStep.One) return { key, type: 'sync-step-1', stateVector: payload }
        if (step === SyncStep.Two || step === SyncStep.Update) return { key, type: 'write', update: payload }
        throw new MalformedReaderFrame(`unknown sync step ${step}`)
      }
      case MessageType.QueryAwareness:
        return { key, type: 'query-awareness' }
      case MessageType.Close:
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

function frame(key: string, type: number, body: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, key)
  encoding.writeVarUint(encoder, type)
  body(encoder)
  return encoding.toUint8Array(encoder)
}

export const encodeAuthenticated = (key: string): Uint8Array =>
  frame(key, MessageType.Auth, (e) => {
    encoding.writeVarUint(e, AUTH_AUTHENTICATED)
    encoding.writeVarString(e, 'readonly')
  })

export const encodePermissionDenied = (key: string, reason: string): Uint8Array =>
  frame(key, MessageType.Auth, (e) => {
    encoding.writeVarUint(e, AUTH_PERMISSION_DENIED)
    encoding.writeVarString(e, reason)
  })

/** Sync step 2: what the reader is missing. A Sync (not SyncReply) frame, which the provider takes as "synced". */
export const encodeSyncStep2 = (key: string, update: Uint8Array): Uint8Array =>
  frame(key, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncStep.Two)
    encoding.writeVarUint8Array(e, update)
  })

export const encodeUpdate = (key: string, update: Uint8Array): Uint8Array =>
  frame(key, MessageType.Sync, (e) => {
    encoding.writeVarUint(e, SyncStep.Update)
    encoding.writeVarUint8Array(e, update)
  })

/** "Not applied": the provider keeps counting the change as unsynced, as on a read-only Hocuspocus connection. */
export const encodeSyncStatus = (key: string, applied: boolean): Uint8Array =>
  frame(key, MessageType.SyncStatus, (e) => encoding.writeVarUint(e, applied ? 1 : 0))

export const encodeStateless = (key: string, payload: string): Uint8Array =>
  frame(key, MessageType.Stateless, (e) => encoding.writeVarString(e, payload))

/** An awareness update with no clients in it: readers see nobody. */
export const encodeEmptyAwareness = (key: string): Uint8Array =>
  frame(key, MessageType.Awareness, (e) => encoding.writeVarUint8Array(e, Uint8Array.of(0)))

import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * What instances say to each other through Redis. Every message names its
 * sender (so an instance ignores its own echo) and its document.
 *
 * - `update`: the bytes of one committed change, published once.
 * - `sync-request` → `sync-reply` → `sync-diff`: anti-entropy when an instance
 *   (re)subscribes to a document. State vectors do not cover deletions, so
 *   both directions carry a full diff (structs the other lacks + the whole
 *   delete set); replies go to the requester's own channel only, never to the
 *   document channel, because a diff is computed for one state vector.
 * - `awareness`: presence changes of the sender's own clients.
 * - `stateless`: a payload broadcast with Document.broadcastStateless.
 */
export type FanoutMessage =
  | { type: 'update'; sender: string; document: string; update: Uint8Array }
  | { type: 'sync-request'; sender: string; document: string; stateVector: Uint8Array; awareness: Uint8Array | null }
  | { type: 'sync-reply'; sender: string; document: string; diff: Uint8Array; stateVector: Uint8Array; awareness: Uint8Array | null }
  | { type: 'sync-diff'; sender: string; document: string; diff: Uint8Array }
  | { type: 'awareness'; sender: string; document: string; awareness: Uint8Array }
  | { type: 'stateless'; sender: string; document: string; payload: string }

/** Bumped on an incompatible wire change; other versions are ignored (and logged) during a rolling upgrade. */
export const FANOUT_PROTOCOL_VERSION = 1

const TYPE_CODES = {
  update: 0,
  'sync-request': 1,
  'sync-reply': 2,
  'sync-diff': 3,
  awareness: 4,
  stateless: 5,
} as const satisfies Record<FanoutMessage['type'], number>

const TYPE_NAMES = Object.fromEntries(Object.entries(TYPE_CODES).map(([name, code]) => [code, name])) as Record<number, FanoutMessage['type']>

export class UnreadableFanoutMessage extends Error {}

export function encodeFanoutMessage(message: FanoutMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, FANOUT_PROTOCOL_VERSION)
  encoding.writeVarUint(encoder, TYPE_CODES[message.type])
  encoding.writeVarString(encoder, message.sender)
  encoding.writeVarString(encoder, message.document)
  switch (message.type) {
    case 'update':
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case 'sync-request':
      encoding.writeVarUint8Array(encoder, message.stateVector)
      writeOptionalBytes(encoder, message.awareness)
      break
    case 'sync-reply':
      encoding.writeVarUint8Array(encoder, message.diff)
      encoding.writeVarUint8Array(encoder, message.stateVector)
      writeOptionalBytes(encoder, message.awareness)
      break
    case 'sync-diff':
      encoding.writeVarUint8Array(encoder, message.diff)
      break
    case 'awareness':
      encoding.writeVarUint8Array(encoder, message.awareness)
      break
    case 'stateless':
      encoding.writeVarString(encoder, message.payload)
      break
  }
  return encoding.toUint8Array(encoder)
}

/** Throws UnreadableFanoutMessage for bytes that are not a message of this protocol version. */
export function decodeFanoutMessage(bytes: Uint8Array): FanoutMessage {
  try {
    const decoder = decoding.createDecoder(bytes)
    const version = decoding.readVarUint(decoder)
    if (version !== FANOUT_PROTOCOL_VERSION) throw new UnreadableFanoutMessage(`fan-out protocol version ${version}, expected ${FANOUT_PROTOCOL_VERSION}`)
    const type = TYPE_NAMES[decoding.readVarUint(decoder)]
    const sender = decoding.readVarString(decoder)
    const document = decoding.readVarString(decoder)
    switch (type) {
      case 'update':
        return { type, sender, document, update: decoding.readVarUint8Array(decoder) }
      case 'sync-request':
        return { type, sender, document, stateVector: decoding.readVarUint8Array(decoder), awareness: readOptionalBytes(decoder) }
      case 'sync-reply':
        return {
          type,
          sender,
          document,
          diff: decoding.readVarUint8Array(decoder),
          stateVector: decoding.readVarUint8Array(decoder),
          awareness: readOptionalBytes(decoder),
        }
      case 'sync-diff':
        return { type, sender, document, diff: decoding.readVarUint8Array(decoder) }
      case 'awareness':
        return { type, sender, document, awareness: decoding.readVarUint8Array(decoder) }
      case 'stateless':
        return { type, sender, document, payload: decoding.readVarString(decoder) }
      default:
        throw new UnreadableFanoutMessage('unknown fan-out message type')
    }
  } catch (error) {
    if (error instanceof UnreadableFanoutMessage) throw error
    throw new UnreadableFanoutMessage('truncated or malformed fan-out message')
  }
}

// An empty byte array stands for "none": a real awareness update is never empty.
function writeOptionalBytes(encoder: encoding.Encoder, bytes: Uint8Array | null): void {
  encoding.writeVarUint8Array(encoder, bytes ?? new Uint8Array(0))
}

function readOptionalBytes(decoder: decoding.Decoder): Uint8Array | null {
  const bytes = decoding.readVarUint8Array(decoder)
  return bytes.byteLength === 0 ? null : bytes
}

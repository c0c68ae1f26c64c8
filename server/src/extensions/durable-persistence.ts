import {
  OutgoingMessage,
  type afterHandleMessagePayload,
  type afterUnloadDocumentPayload,
  type beforeHandleMessagePayload,
  type Connection,
  type Document,
  type Extension,
  type onChangePayload,
  type onLoadDocumentPayload,
} from '@hocuspocus/server'
import { integrationProblem, type DocumentStore, mayWait, waitingBytes } from '@botsync/persistence'
import { refusalMessage, type RefusalReason } from '@botsync/shared-docs'
import * as Y from 'yjs'
import { MalformedFrame, readClientUpdate, readOnlyRefusal, type ClientUpdate } from '../client-frame.ts'
import type { Logger } from '../logger.ts'
import { isUnstoredLocalOrigin, STORED_ORIGIN } from '../origins.ts'
import type { ConnectionContext } from '../types.ts'
import type { Metrics } from '../metrics.ts'
import { DocumentSizes, onlyDeletesKnownContent } from '../writes/document-size.ts'
import { DEFAULT_BROADCAST_SLICE_MS, SlicedBroadcast } from '../writes/sliced-broadcast.ts'
import { UpdateRate } from '../writes/update-rate.ts'

export interface WriteLimits {
  /** MAX_DOCUMENT_BYTES */
  maxDocumentBytes: number
  /** MAX_WAITING_BYTES */
  maxWaitingBytes: number
  /** MAX_UPDATES_PER_SECOND (0: off) */
  maxUpdatesPerSecond: number
  /** UPDATE_BURST */
  updateBurst: number
  /** BROADCAST_SLICE_MS: event-loop time one slice of a broadcast may take (see SlicedBroadcast). */
  broadcastSliceMs: number
}

export const DEFAULT_WRITE_LIMITS: WriteLimits = {
  maxDocumentBytes: 10 * 1024 * 1024,
  maxWaitingBytes: 64 * 1024,
  maxUpdatesPerSecond: 50,
  updateBurst: 200,
  broadcastSliceMs: DEFAULT_BROADCAST_SLICE_MS,
}

/** What one accepted message holds until Hocuspocus has handled it. */
interface InFlight {
  document: string
  /** Bytes reserved in DocumentSizes. */
  reserved: number
  /** The message was refused: Hocuspocus saw the connection as read-only for it. */
  skipped: boolean
}

/**
 * Where an update is stored. A client's update is appended to PostgreSQL and
 * committed *before* Hocuspocus applies it: only then does the client get its
 * sync acknowledgement and do other clients receive the change. So a
 * provider's "all changes saved" means durable, and nothing anyone has seen
 * can be lost in a crash.
 */
export class DurablePersistence implements Extension {
  extensionName = 'botsync-durable-persistence'
  private readonly store: DocumentStore
  private readonly log: Logger
  private readonly metrics: Metrics
  private readonly sizes: DocumentSizes
  private readonly rate: UpdateRate
  /** Per connection (one document on one socket), the message being handled. */
  private readonly inFlight = new WeakMap<Connection, InFlight>()
  /** Connections asked to resend what was refused for its rate, once the bucket allows. */
  private readonly maxWaitingBytes: number
  private readonly resendTimers = new WeakMap<Connection, NodeJS.Timeout>()
  private readonly broadcastSliceMs: number

  constructor(store: DocumentStore, log: Logger, metrics: Metrics, limits: WriteLimits = DEFAULT_WRITE_LIMITS) {
    this.store = store
    this.log = log
    this.metrics = metrics
    this.sizes = new DocumentSizes(limits.maxDocumentBytes)
    this.maxWaitingBytes = limits.maxWaitingBytes
    this.broadcastSliceMs = limits.broadcastSliceMs
    this.rate = new UpdateRate({ perSecond: limits.maxUpdatesPerSecond, burst: limits.updateBurst })
  }

  /**
   * A load that fails is logged here, once, with the document's name; the
   * rejection carries no message, so Hocuspocus does not log it again (once
   * per later extension, without the name), and the client is told
   * `document-unavailable`.
   */
  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    // Committing first leaves the event loop free between reading an edit and
    // acknowledging it; a whole broadcast to every reader must not fit in there.
    SlicedBroadcast.install(document, this.broadcastSliceMs, this.metrics.broadcasts)
    try {
      const { state, pieces } = await this.store.load(documentName)
      if (pieces) await applyInSlices(document, pieces)
      else if (state) Y.applyUpdate(document, state, STORED_ORIGIN)
      this.sizes.track(documentName, document, state?.byteLength ?? 0)
    } catch (error) {
      this.log.error({ event: 'load-failed', document: documentName, err: error }, 'could not load the document')
      throw { reason: 'document-unavailable' }
    }
  }

  async beforeHandleMessage(payload: beforeHandleMessagePayload<ConnectionContext>): Promise<void> {
    const { connection, documentName, document } = payload
    // A message whose handling a later extension aborted (no afterHandleMessage).
    this.settle(connection)
    let read: ClientUpdate | null
    try {
      read = readClientUpdate(payload.update)
    } catch (error) {
      if (!(error instanceof MalformedFrame)) throw error
      this.log.warn({ event: 'frame-refused', reason: error.reason, document: documentName, socket: payload.socketId }, error.message)
      throw { code: 4400, reason: `${error.reason}: ${error.message}` }
    }
    if (!read) return
    // Decoded once (readClientUpdate), checked against that decoding, stored as bytes.
    const { bytes: update, decoded } = read

    if (connection.readOnly) {
      // Hocuspocus will not apply it either; tell the client why, once per
      // refused change, and store nothing.
      if (!Y.snapshotContainsUpdate(Y.snapshot(document), update)) {
        const role = payload.context.role ?? 'unknown'
        this.metrics.refusedWrites += 1
        this.metrics.refusedUpdates['read-only'] += 1
        this.log.info({ event: 'write-refused', reason: 'read-only', role, document: documentName, socket: payload.socketId })
        connection.sendStateless(readOnlyRefusal(role, documentName))
      }
      return
    }

    // Checked in order of cost. A refused update is not stored and, because
    // the connection is read-only for this one message, not applied by
    // Hocuspocus either: the client gets SyncStatus false, its provider keeps
    // the change as unsynced and the socket stays open.
    const rate = this.rate.take(connection.webSocket)
    if (rate === 'abusive') {
      this.metrics.rateLimitClosures += 1
      this.log.warn(
        { event: 'update-refused', reason: 'rate-limited', document: documentName, socket: payload.socketId, closed: true },
        'closing a socket that keeps sending while rate-limited',
      )
      // The whole socket (Hocuspocus' own close ends only this document's
      // connection); throwing stops the rest of its queued messages.
      connection.webSocket.close(1008, 'rate-limited')
      throw { code: 1008, reason: 'rate-limited' }
    }
    if (rate === 'refused') {
      this.refuse(connection, payload, 'rate-limited', `more than the allowed updates per second; it is sent again once the rate allows`)
      this.askToResendLater(connection, document)
      return
    }
    const problem = integrationProblem(document, decoded)
    if (problem) {
      this.refuse(connection, payload, 'invalid-update', 'the update cannot be integrated into the document', problem)
      return
    }
    const waiting = waitingBytes(document)
    if (waiting >= this.maxWaitingBytes && mayWait(document, decoded)) {
      this.refuse(connection, payload, 'too-much-waiting', `the document already holds ${waiting} bytes of changes waiting for content it lacks`)
      return
    }
    const grows = !onlyDeletesKnownContent(document, decoded)
    const reserved = grows ? update.byteLength : 0
    if (grows && !this.sizes.reserve(documentName, reserved)) {
      this.refuse(connection, payload, 'document-too-large', `the document would grow past ${this.sizes.maxBytes} bytes`)
      return
    }
    this.inFlight.set(connection, { document: documentName, reserved, skipped: false })

    const started = performance.now()
    try {
      await this.store.append(documentName, update, { authorId: authorOf(payload.context) })
    } catch (error) {
      this.settle(connection)
      this.log.error({ event: 'append-failed', document: documentName, err: error }, 'could not store an update; the client keeps it and will resend')
      // Closing the socket makes the provider reconnect and resend its
      // unacknowledged changes once storage is back.
      connection.webSocket.close(4503, 'storage-unavailable')
      throw { code: 4503, reason: 'storage-unavailable' }
    }
    this.metrics.observeAppend(performance.now() - started, update.byteLength)
  }

  /** Hocuspocus has handled (applied, or skipped) the message. */
  async afterHandleMessage({ connection }: afterHandleMessagePayload): Promise<void> {
    this.settle(connection)
  }

  private settle(connection: Connection): void {
    const inFlight = this.inFlight.get(connection)
    if (!inFlight) return
    this.inFlight.delete(connection)
    if (inFlight.reserved) this.sizes.release(inFlight.document, inFlight.reserved)
    // A refusal made it read-only for one message; back to what access says
    // now (LiveAccess keeps that in the context, and may have lowered it meanwhile).
    if (inFlight.skipped) connection.readOnly = (connection.context as ConnectionContext).readOnly === true
  }

  private refuse(connection: Connection, payload: beforeHandleMessagePayload<ConnectionContext>, reason: RefusalReason, message: string, detail?: string): void {
    this.metrics.refusedUpdates[reason] += 1
    this.log.warn({ event: 'update-refused', reason, document: payload.documentName, socket: payload.socketId, role: payload.context.role, detail })
    connection.sendStateless(refusalMessage(reason, message))
    // Hocuspocus' own read-only path answers SyncStatus false and applies
    // nothing; afterHandleMessage makes the connection writable again.
    connection.readOnly = true
    this.inFlight.set(connection, { document: payload.documentName, reserved: 0, skipped: true })
  }

  /**
   * A provider sends each change once. After a rate refusal, send it sync
   * step 1 (this document's state vector) when its bucket has room again: it
   * answers with one sync step 2 holding everything the server lacks,
   * including the refused changes.
   */
  private askToResendLater(connection: Connection, document: Document): void {
    if (this.resendTimers.has(connection)) return
    const delay = Math.max(250, this.rate.msUntilAccepted(connection.webSocket))
    const timer = setTimeout(() => {
      this.resendTimers.delete(connection)
      if (connection.webSocket.readyState !== 1 /* OPEN */) return
      connection.send(new OutgoingMessage(connection.messageAddress).createSyncMessage().writeFirstSyncStepFor(document).toUint8Array())
    }, delay)
    timer.unref()
    this.resendTimers.set(connection, timer)
  }

  /** Server-side changes that did not come through ServerWriter are stored too. */
  async onChange({ transactionOrigin, update, documentName }: onChangePayload): Promise<void> {
    if (!isUnstoredLocalOrigin(transactionOrigin)) return
    await this.store.append(documentName, update).catch((error) => {
      this.log.error({ event: 'append-failed', document: documentName, err: error }, 'could not store a server-side change')
    })
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.sizes.untrack(documentName)
    this.store.release(documentName)
  }
}

/** Who an update is stored as written by: the admin user; nobody (null) for a bot or anything else. */
export function authorOf(context: Partial<ConnectionContext> | undefined): string | null {
  const principal = context?.principal
  return principal?.kind === 'admin' ? principal.userId : null
}

/**
 * Event-loop time one slice of a large load may take before yielding. The
 * fold ran in a worker, but the live document is on this thread: applying
 * a 3 MB state in one call took ~400 ms, during which nothing else on the
 * instance answered.
 */
const APPLY_SLICE_MS = 8

/**
 * Applies a loaded document's pieces (see LoadedDocument.pieces) in order,
 * yielding between slices. Nobody sees the document before onLoadDocument
 * returns, so the intermediate states are invisible. While loading,
 * broadcasts are made immediate: with Hocuspocus' default batching every
 * slice's updates would be merged (Y.mergeUpdates, quadratic) into one
 * message for connections that do not exist yet.
 */
async function applyInSlices(document: Document, pieces: Uint8Array[]): Promise<void> {
  const flushDelay = document.flushDelay
  document.flushDelay = false
  try {
    let sliceStart = performance.now()
    for (const piece of pieces) {
      Y.applyUpdate(document, piece, STORED_ORIGIN)
      if (performance.now() - sliceStart >= APPLY_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        sliceStart = performance.now()
      }
    }
  } finally {
    document.flushDelay = flushDelay
  }
}

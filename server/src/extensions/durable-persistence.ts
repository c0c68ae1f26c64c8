import type {
  afterUnloadDocumentPayload,
  beforeHandleMessagePayload,
  Document,
  Extension,
  onChangePayload,
  onLoadDocumentPayload,
} from '@hocuspocus/server'
import type { DocumentStore } from '@botsync/persistence'
import * as Y from 'yjs'
import { MalformedFrame, readClientUpdate, readOnlyRefusal } from '../client-frame.ts'
import type { Logger } from '../logger.ts'
import { STORED_ORIGIN } from '../server-writer.ts'
import type { ConnectionContext } from '../types.ts'
import type { Metrics } from '../metrics.ts'

/**
 * Where an update is stored. A client's update is appended to PostgreSQL and
 * committed *before* Hocuspocus applies it: only then does the client get its
 * sync acknowledgement and do other clients receive the change. So a
 * provider's "all changes saved" means durable, and nothing anyone has seen
 * can be lost in a crash.
 */
export class DurablePersistence implements Extension {
  extensionName = 'botsync-durable-persistence'
  priority = 900
  private readonly store: DocumentStore
  private readonly log: Logger
  private readonly metrics: Metrics

  constructor(store: DocumentStore, log: Logger, metrics: Metrics) {
    this.store = store
    this.log = log
    this.metrics = metrics
  }

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const { state, pieces } = await this.store.load(documentName)
    if (pieces) await applyInSlices(document, pieces)
    else if (state) Y.applyUpdate(document, state, STORED_ORIGIN)
  }

  async beforeHandleMessage(payload: beforeHandleMessagePayload<ConnectionContext>): Promise<void> {
    const { connection, documentName, document } = payload
    let update: Uint8Array | null
    try {
      update = readClientUpdate(payload.update)
    } catch (error) {
      if (!(error instanceof MalformedFrame)) throw error
      this.log.warn({ event: 'frame-refused', reason: error.reason, document: documentName, socket: payload.socketId }, error.message)
      throw { code: 4400, reason: `${error.reason}: ${error.message}` }
    }
    if (!update) return

    if (connection.readOnly) {
      // Hocuspocus will not apply it either; tell the client why, once per
      // refused change, and store nothing.
      if (!Y.snapshotContainsUpdate(Y.snapshot(document), update)) {
        const role = payload.context.principal?.role ?? 'unknown'
        this.metrics.refusedWrites += 1
        this.log.info({ event: 'write-refused', reason: 'read-only', role, document: documentName, socket: payload.socketId })
        connection.sendStateless(readOnlyRefusal(role, documentName))
      }
      return
    }

    const started = performance.now()
    try {
      await this.store.append(documentName, update)
    } catch (error) {
      this.log.error({ event: 'append-failed', document: documentName, err: error }, 'could not store an update; the client keeps it and will resend')
      // Closing the socket makes the provider reconnect and resend its
      // unacknowledged changes once storage is back.
      connection.webSocket.close(4503, 'storage-unavailable')
      throw { code: 4503, reason: 'storage-unavailable' }
    }
    this.metrics.observeAppend(performance.now() - started, update.byteLength)
  }

  /** Server-side changes that did not come through ServerWriter are stored too. */
  async onChange({ transactionOrigin, update, documentName }: onChangePayload): Promise<void> {
    const origin = transactionOrigin as { source?: string; skipStoreHooks?: boolean } | undefined
    if (origin?.source !== 'local' || origin.skipStoreHooks) return
    await this.store.append(documentName, update).catch((error) => {
      this.log.error({ event: 'append-failed', document: documentName, err: error }, 'could not store a server-side change')
    })
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    this.store.release(documentName)
  }
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

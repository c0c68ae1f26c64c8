import type {
  afterUnloadDocumentPayload,
  beforeHandleMessagePayload,
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

  /**
   * A load that fails is logged here, once, with the document's name; the
   * rejection carries no message, so Hocuspocus does not log it again (once
   * per later extension, without the name), and the client is told
   * `document-unavailable`.
   */
  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    try {
      const { state } = await this.store.load(documentName)
      if (state) Y.applyUpdate(document, state, STORED_ORIGIN)
    } catch (error) {
      this.log.error({ event: 'load-failed', document: documentName, err: error }, 'could not load the document')
      throw { reason: 'document-unavailable' }
    }
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

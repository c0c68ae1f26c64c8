import type {
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeBroadcastStatelessPayload,
  Document,
  Extension,
  onAwarenessUpdatePayload,
  onChangePayload,
} from '@hocuspocus/server'
import { applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import { FANOUT_ORIGIN, isFanoutOrigin, isOwnClientAwareness } from '../origins.ts'
import { FanoutChannels } from '../redis/fanout-channels.ts'
import { decodeFanoutMessage, encodeFanoutMessage, UnreadableFanoutMessage, type FanoutMessage } from '../redis/fanout-message.ts'
import type { RedisLink } from '../redis/redis-link.ts'

type AnyMessage = FanoutMessage extends infer M ? (M extends FanoutMessage ? Omit<M, 'sender'> : never) : never

/**
 * Where an update is fanned out to other instances (and received from them).
 *
 * Why not @hocuspocus/extension-redis: it publishes a state vector per change
 * and peers answer with a diff, ~1.5 Redis round trips before an edit reaches
 * another instance's clients (measured by `npm run bench`, suite fanout), and
 * its onStoreDocument lock skips a store when another instance holds the lock.
 * botsync stores each client's update before applying it (DurablePersistence),
 * so an instance can simply publish the committed update bytes once:
 *
 * - `onChange` (after DurablePersistence's: extension-chain.ts) publishes
 *   every change that did not come from Redis: a client's update was committed before
 *   Hocuspocus applied it, a ServerWriter change was committed before it was
 *   applied, and any other local change has been appended by
 *   DurablePersistence.onChange by the time this hook runs. So no instance
 *   ever shows an edit that a crash could take back.
 * - Anti-entropy: after a document is loaded, and for every loaded document
 *   whenever Redis comes back, the instance publishes its state vector; each
 *   peer answers with what the requester lacks plus its own state vector, and
 *   the requester answers with what the peer lacks. That heals whatever was
 *   missed while subscribing or during an outage, without clients reconnecting.
 * - Awareness of this instance's own clients and stateless broadcasts are
 *   published too; remote awareness is applied to the document's awareness, so
 *   Hocuspocus forwards it to local clients like any other presence change.
 */
export class RedisFanout implements Extension {
  extensionName = 'botsync-redis-fanout'

  /** Unique per process, even if two instances are given the same INSTANCE_ID. */
  readonly nodeId: string
  private readonly redis: RedisLink
  private readonly channels: FanoutChannels
  private readonly log: Logger
  private readonly metrics: Metrics
  /** Loaded documents this instance is subscribed for. */
  private readonly documents = new Map<string, Document>()
  /** Awareness clients changed this event-loop turn, per document (coalesced like Hocuspocus' own broadcast). */
  private readonly pendingAwareness = new Map<Document, Set<number>>()
  private awarenessFlush: NodeJS.Immediate | null = null
  private warnedUnreadable = false

  constructor(options: { redis: RedisLink; prefix: string; nodeId: string; log: Logger; metrics: Metrics }) {
    this.redis = options.redis
    this.channels = new FanoutChannels(options.prefix)
    this.nodeId = options.nodeId
    this.log = options.log
    this.metrics = options.metrics
    this.redis.onMessage = (_channel, message) => this.receive(message)
    this.redis.onUp = () => this.resyncAll()
    void this.redis.subscribe(this.channels.node(this.nodeId))
  }

  async afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    this.documents.set(documentName, document)
    // Updates committed elsewhere between our database load and this
    // subscription are caught by the state-vector exchange that follows.
    await this.redis.subscribe(this.channels.document(documentName))
    this.requestSync(documentName, document)
  }

  async onChange({ transactionOrigin, update, documentName }: onChangePayload): Promise<void> {
    if (isFanoutOrigin(transactionOrigin)) return
    this.publish(this.channels.document(documentName), { type: 'update', document: documentName, update })
  }

  async onAwarenessUpdate({ document, added, updated, removed, transactionOrigin }: onAwarenessUpdatePayload): Promise<void> {
    // Publish only what this instance is the source of (see isOwnClientAwareness).
    if (!isOwnClientAwareness(transactionOrigin)) return
    let clients = this.pendingAwareness.get(document)
    if (!clients) this.pendingAwareness.set(document, (clients = new Set()))
    for (const client of [...added, ...updated, ...removed]) clients.add(client)
    this.awarenessFlush ??= setImmediate(() => this.flushAwareness())
  }

  async beforeBroadcastStateless({ documentName, payload }: beforeBroadcastStatelessPayload): Promise<void> {
    this.publish(this.channels.document(documentName), { type: 'stateless', document: documentName, payload })
  }

  async afterUnloadDocument({ documentName }: afterUnloadDocumentPayload): Promise<void> {
    const document = this.documents.get(documentName)
    // A fast reconnect may already have loaded (and registered) a new copy.
    if (!document?.isDestroyed) return
    this.documents.delete(documentName)
    this.pendingAwareness.delete(document)
    await this.redis.unsubscribe(this.channels.document(documentName))
  }

  /** Sends any coalesced awareness now (shutdown). */
  flush(): void {
    this.flushAwareness()
  }

  private flushAwareness(): void {
    if (this.awarenessFlush) clearImmediate(this.awarenessFlush)
    this.awarenessFlush = null
    for (const [document, changed] of this.pendingAwareness) {
      // encodeAwarenessUpdate needs each client's clock; removed clients keep theirs.
      const clients = [...changed].filter((client) => document.awareness.meta.has(client))
      if (clients.length === 0) continue
      const awareness = encodeAwarenessUpdate(document.awareness, clients)
      this.publish(this.channels.document(document.name), { type: 'awareness', document: document.name, awareness })
    }
    this.pendingAwareness.clear()
  }

  private resyncAll(): void {
    for (const [name, document] of this.documents) this.requestSync(name, document)
  }

  private requestSync(documentName: string, document: Document): void {
    if (document.isDestroyed) return
    this.metrics.fanout.syncRequests += 1
    this.publish(this.channels.document(documentName), {
      type: 'sync-request',
      document: documentName,
      stateVector: Y.encodeStateVector(document),
      awareness: this.localAwareness(document),
    })
  }

  private receive(bytes: Uint8Array): void {
    let message: FanoutMessage
    try {
      message = decodeFanoutMessage(bytes)
    } catch (error) {
      if (!(error instanceof UnreadableFanoutMessage)) throw error
      if (!this.warnedUnreadable) {
        this.warnedUnreadable = true
        this.log.warn({ event: 'fanout-unreadable', reason: error.message }, 'ignoring Redis messages this version cannot read (mixed versions during an upgrade?)')
      }
      return
    }
    if (message.sender === this.nodeId) return
    const document = this.documents.get(message.document)
    if (!document || document.isDestroyed) return
    this.metrics.fanout.received += 1
    try {
      this.apply(message, document)
    } catch (error) {
      // A peer's message that Yjs cannot apply must not take this instance down.
      this.log.error({ event: 'fanout-apply-failed', type: message.type, document: message.document, sender: message.sender, err: error })
    }
  }

  private apply(message: FanoutMessage, document: Document): void {
    switch (message.type) {
      case 'update':
      case 'sync-diff':
        Y.applyUpdate(document, message.type === 'update' ? message.update : message.diff, FANOUT_ORIGIN)
        return
      case 'sync-request': {
        if (message.awareness) applyAwarenessUpdate(document.awareness, message.awareness, FANOUT_ORIGIN)
        this.publish(this.channels.node(message.sender), {
          type: 'sync-reply',
          document: message.document,
          diff: Y.encodeStateAsUpdate(document, message.stateVector),
          stateVector: Y.encodeStateVector(document),
          awareness: this.localAwareness(document),
        })
        return
      }
      case 'sync-reply': {
        // Compute the answer before applying: what we had that the peer lacks.
        const diff = Y.encodeStateAsUpdate(document, message.stateVector)
        Y.applyUpdate(document, message.diff, FANOUT_ORIGIN)
        if (message.awareness) applyAwarenessUpdate(document.awareness, message.awareness, FANOUT_ORIGIN)
        this.publish(this.channels.node(message.sender), { type: 'sync-diff', document: message.document, diff })
        return
      }
      case 'awareness':
        applyAwarenessUpdate(document.awareness, message.awareness, FANOUT_ORIGIN)
        return
      case 'stateless':
        // relayStateless: the beforeBroadcastStateless hook already ran on the sender.
        document.relayStateless(message.payload)
        return
    }
  }

  /** Presence of this instance's own clients only; peers learn remote clients from their instances. */
  private localAwareness(document: Document): Uint8Array | null {
    const clients: number[] = []
    for (const { clients: connectionClients } of document.connections.values()) {
      for (const client of connectionClients) if (document.awareness.getStates().has(client)) clients.push(client)
    }
    return clients.length ? encodeAwarenessUpdate(document.awareness, clients) : null
  }

  private publish(channel: string, message: AnyMessage): void {
    const sent = this.redis.publish(channel, encodeFanoutMessage({ ...message, sender: this.nodeId } as FanoutMessage))
    if (sent) this.metrics.fanout.published += 1
    else this.metrics.fanout.dropped += 1
  }
}

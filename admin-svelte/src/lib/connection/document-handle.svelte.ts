// One open document: its Y.Doc, this device's copy in IndexedDB, and a
// provider on the page's shared WebSocket. The IndexedDB copy is loaded
// *before* the provider attaches, so edits made offline (even before a
// reload) are part of the first sync and reach the server on reconnect.
import { HocuspocusProvider, type HocuspocusProviderWebsocket } from '@hocuspocus/provider'
import { IndexeddbPersistence } from 'y-indexeddb'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { parseRefusal, type Refusal } from '@botsync/shared-docs'
import type { OpenDocument } from './open-document.ts'
import { PendingEdits } from './pending-edits.ts'

/** After a `rate-limited` refusal, when to sync again (the server's bucket refills meanwhile). */
const RATE_LIMIT_RESYNC_MS = 1000

export interface PresenceIdentity {
  id: string
  name: string
  color: string
}

export interface DocumentHandleOptions {
  name: string
  socket: HocuspocusProviderWebsocket
  /** A function is asked again at each (re)connection and token request. */
  token: string | (() => string) | (() => Promise<string>)
  user: PresenceIdentity
  /**
   * Viewers: the UI offers no edits (the server refuses them anyway). A
   * function is asked again at each read until the server has said, so it may
   * follow state that arrives later (the user's role in the space).
   */
  readOnly: boolean | (() => boolean)
  /** Scope of the IndexedDB database name, e.g. the user id; null disables local persistence. */
  localScope: string | null
  onRefused?: (handle: DocumentHandle, reason: string, message: string) => void
  onAuthenticationFailed?: (handle: DocumentHandle, reason: string) => void
}

export class DocumentHandle implements OpenDocument {
  readonly name: string
  readonly doc = new Y.Doc()
  readonly awareness: Awareness
  #localLoaded = $state(false)
  #serverSynced = $state(false)
  #synced = $state(false)
  #unsynced = $state(0)
  #pending = $state(0)
  #hasContent = $state(false)
  #serverReadOnly = $state<boolean | null>(null)
  #refusal = $state<Refusal | null>(null)
  readonly #readOnly: boolean | (() => boolean)
  readonly #options: DocumentHandleOptions
  readonly #pendingEdits: PendingEdits
  #persistence: IndexeddbPersistence | null = null
  #provider: HocuspocusProvider | null = null
  #destroyed = false
  /** The server refused this connection's token (say, none yet: a tab opened offline); it forgot the sync sent with it. */
  #authenticationFailed = false
  #resyncTimer: ReturnType<typeof setTimeout> | null = null
  readonly ready: Promise<void>

  constructor(options: DocumentHandleOptions) {
    this.name = options.name
    this.#options = options
    this.#readOnly = options.readOnly
    this.#pendingEdits = new PendingEdits(options.user.id, options.name)
    this.#pending = this.#pendingEdits.count
    this.awareness = new Awareness(this.doc)
    this.awareness.setLocalStateField('user', options.user)
    this.doc.on('update', this.#onUpdate)
    this.ready = this.#open()
  }

  /** IndexedDB content applied (or there is no local persistence). */
  get localLoaded(): boolean {
    return this.#localLoaded
  }

  /** Synced with the server at least once since the page loaded. */
  get serverSynced(): boolean {
    return this.#serverSynced
  }

  /** Currently synced with the server (false while disconnected). */
  get synced(): boolean {
    return this.#synced
  }

  /** The provider's count of changes the server has not acknowledged (= committed). */
  get unsynced(): number {
    return this.#unsynced
  }

  /** Local edits not yet known to be saved; survives reloads (see PendingEdits). */
  get pending(): number {
    return this.#pending
  }

  get hasContent(): boolean {
    return this.#hasContent
  }

  /**
   * What the server last said about this connection: read-only or not, or
   * null before it said anything. It says it again when the user's role or
   * token changes while the document is open.
   */
  get serverReadOnly(): boolean | null {
    return this.#serverReadOnly
  }

  /** The server's latest refusal of a change here, until everything is saved again. */
  get refusal(): Refusal | null {
    return this.#refusal
  }

  get readOnly(): boolean {
    // The server decides; until it has, the role the session was opened with.
    if (this.#serverReadOnly !== null) return this.#serverReadOnly
    return typeof this.#readOnly === 'function' ? this.#readOnly() : this.#readOnly
  }

  get loaded(): boolean {
    return this.#localLoaded && (this.#serverSynced || this.#hasContent)
  }

  /** True when every local edit is acknowledged by the server (committed to PostgreSQL). */
  get saved(): boolean {
    return this.#synced && this.#unsynced === 0
  }

  /** Unsaved edits: the provider's count once synced, the persisted local count before that. */
  get unsavedChanges(): number {
    return this.#synced ? this.#unsynced : this.#pending
  }

  get provider(): HocuspocusProvider | null {
    return this.#provider
  }

  /**
   * Sends the current token now (it was just refreshed), if this connection
   * is authenticated or was refused. If the server had
   * refused this connection's last one, it dropped what came with it, so the
   * sync starts again as on a fresh connection: the edits kept on this
   * device go out without waiting for a reconnect.
   */
  async sendToken(): Promise<void> {
    const provider = this.#provider
    if (!provider) return
    const retry = this.#authenticationFailed
    // Not connected, or its authentication is under way: it asks the token function, which has the new token.
    // (A second token on a connection being set up would make the server ask for a second sync.)
    if (!provider.isAuthenticated && !retry) return
    await provider.sendToken()
    if (retry && this.#provider === provider) provider.startSync()
  }

  async #open(): Promise<void> {
    const scope = this.#options.localScope
    if (scope !== null && typeof indexedDB !== 'undefined') {
      this.#persistence = new IndexeddbPersistence(`botsync:${scope}:${this.name}`, this.doc)
      await this.#persistence.whenSynced
    }
    if (this.#destroyed) return
    this.#localLoaded = true
    this.#hasContent = this.doc.store.clients.size > 0
    this.#attach()
  }

  #attach(): void {
    const provider = new HocuspocusProvider({
      websocketProvider: this.#options.socket,
      name: this.name,
      document: this.doc,
      awareness: this.awareness,
      token: this.#options.token,
      onSynced: () => this.#refresh(),
      onUnsyncedChanges: () => this.#refresh(),
      onAuthenticated: ({ scope }) => {
        this.#authenticationFailed = false
        this.#serverReadOnly = scope === 'readonly'
      },
      onAuthenticationFailed: ({ reason }) => {
        this.#authenticationFailed = true
        this.#options.onAuthenticationFailed?.(this, reason)
      },
      onStateless: ({ payload }) => this.receiveStateless(payload),
    })
    provider.on('status', () => this.#refresh())
    provider.on('close', () => this.#refresh())
    this.#provider = provider
    provider.attach()
    this.#refresh()
  }

  #refresh(): void {
    const provider = this.#provider
    if (!provider) return
    this.#synced = provider.isSynced
    this.#unsynced = provider.unsyncedChanges
    if (provider.isSynced) this.#serverSynced = true
    if (provider.isSynced && provider.unsyncedChanges === 0) this.#refusal = null
    if (provider.isSynced && provider.unsyncedChanges === 0 && this.#pending > 0) {
      // Everything this device had is acknowledged, so committed.
      this.#pendingEdits.clear()
      this.#pending = 0
    }
  }

  #onUpdate = (_update: Uint8Array, origin: unknown): void => {
    this.#hasContent = true
    // Changes from the server (origin: the provider) or restored from
    // IndexedDB (origin: the persistence) are not this user's new edits.
    if (origin === this.#provider || origin === this.#persistence || this.#provider === null) return
    this.#pending = this.#pendingEdits.increment()
  }

  /** A stateless message from the server for this document. */
  receiveStateless(payload: string): void {
    const refusal = parseRefusal(payload)
    if (!refusal) return
    this.#refusal = refusal
    if (refusal.reason === 'rate-limited') this.#resyncSoon()
    this.#options.onRefused?.(this, refusal.reason, refusal.message)
  }

  /**
   * The server refused changes for this socket's rate and keeps nothing of
   * them: sync again shortly, which sends everything it lacks as one update
   * and resets the provider's unsynced count to that one.
   */
  #resyncSoon(): void {
    if (this.#resyncTimer) return
    this.#resyncTimer = setTimeout(() => {
      this.#resyncTimer = null
      if (!this.#destroyed && this.#provider?.isSynced) this.#provider.forceSync()
    }, RATE_LIMIT_RESYNC_MS)
  }

  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    if (this.#resyncTimer) clearTimeout(this.#resyncTimer)
    this.doc.off('update', this.#onUpdate)
    // The provider's destroy also ends the awareness (telling others we left).
    if (this.#provider) this.#provider.destroy()
    else this.awareness.destroy()
    void this.#persistence?.destroy()
    this.doc.destroy()
  }
}

// The page's collaboration session: one WebSocket shared by the providers of
// every open document, reference-counted document handles, and the derived
// connection status and "unsaved changes" count shown in the header.
import { HocuspocusProviderWebsocket, WebSocketStatus } from '@hocuspocus/provider'
import { SvelteMap } from 'svelte/reactivity'
import { parseDocumentName } from '@botsync/shared-docs'
import { DocumentHandle, type PresenceIdentity } from './document-handle.svelte.ts'
import type { DocumentSource, OpenDocument } from './open-document.ts'
import { hasUndoHistory } from '../yjs/undo-history.svelte.ts'
import { PendingEdits } from './pending-edits.ts'

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline'

export interface CollabSessionOptions {
  url: string
  /** A function is asked at every (re)connection and token request, so it can return a refreshed token. */
  token: string | (() => string) | (() => Promise<string>)
  user: PresenceIdentity
  /**
   * Whether a document opens read-only before the server says (viewers). A
   * function is asked per document, and again until the server has decided,
   * so it can follow the user's role in the document's space.
   */
  readOnly: boolean | ((documentName: string) => boolean)
  /** WebSocket implementation (default: the browser's). */
  webSocket?: unknown
  /** Persist documents in IndexedDB (default true). */
  persistence?: boolean
  onRefused?: (documentName: string, reason: string, message: string) => void
  onAuthenticationFailed?: (documentName: string, reason: string) => void
  /** The server closed the socket (it reconnects by itself): its close code and reason, e.g. 4403 `access-revoked` (this user lost access to a space) or `session-revoked`. */
  onClosed?: (code: number, reason: string) => void
}

interface Entry {
  handle: DocumentHandle
  users: number
  /** Released with edits the server did not have yet: kept open until it has them (and is synced). */
  keptForEdits: boolean
}

/** A handle released while it still holds unsaved edits stays open until they are saved. */
const KEEP_OPEN_CHECK_MS = 500

export class CollabSession implements DocumentSource {
  #status = $state<ConnectionStatus>('connecting')
  readonly socket: HocuspocusProviderWebsocket
  readonly #entries = new SvelteMap<string, Entry>()
  readonly #options: CollabSessionOptions
  #everConnected = false
  #browserOnline = typeof navigator === 'undefined' ? true : navigator.onLine
  #socketStatus: WebSocketStatus = WebSocketStatus.Connecting
  #keepOpenTimer: ReturnType<typeof setInterval> | null = null
  #destroyed = false

  constructor(options: CollabSessionOptions) {
    this.#options = options
    this.socket = new HocuspocusProviderWebsocket({
      url: options.url,
      WebSocketPolyfill: options.webSocket,
      // Backoff for a flaky network; a returning network is noticed at once
      // through the browser's `online` event instead (see #onOnline).
      delay: 500,
      minDelay: 500,
      maxDelay: 10_000,
      factor: 2,
    })
    this.socket.on('status', ({ status }: { status: WebSocketStatus }) => {
      this.#socketStatus = status
      if (status === WebSocketStatus.Connected) this.#everConnected = true
      this.#updateStatus()
    })
    this.socket.on('close', ({ event }: { event?: { code?: number; reason?: string } }) => {
      if (typeof event?.code === 'number') options.onClosed?.(event.code, event.reason ?? '')
    })
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.#onOnline)
      window.addEventListener('offline', this.#onOffline)
    }
  }

  /** Socket state as the user should understand it. */
  get status(): ConnectionStatus {
    return this.#status
  }

  /** Every open document, including ones kept open only to finish saving. */
  get documents(): DocumentHandle[] {
    return [...this.#entries.values()].map((entry) => entry.handle)
  }

  /** Edits not yet acknowledged by the server, across all open documents. */
  get unsavedChanges(): number {
    return this.documents.reduce((sum, handle) => sum + handle.unsavedChanges, 0)
  }

  /** The open documents of one space. */
  documentsIn(space: string): DocumentHandle[] {
    return this.documents.filter((handle) => parseDocumentName(handle.name)?.space === space)
  }

  /** Edits not yet acknowledged by the server in one space's documents (e.g. refused since the user became a viewer). */
  unsavedChangesIn(space: string): number {
    return this.documentsIn(space).reduce((sum, handle) => sum + handle.unsavedChanges, 0)
  }

  /**
   * True only when connected and every open document has synced and has no
   * edit the server has not acknowledged (= committed). A document still
   * loading counts as not saved: nothing is claimed about what is not known.
   */
  get allSaved(): boolean {
    return this.#status === 'connected' && this.documents.every((handle) => handle.saved)
  }

  /** A change the server refused and the user should know about (the first such document's). */
  get refusal(): { document: string; reason: string; message: string } | null {
    const handle = this.documents.find((h) => h.refusal !== null)
    return handle?.refusal ? { document: handle.name, ...handle.refusal } : null
  }

  open(name: string): DocumentHandle {
    const existing = this.#entries.get(name)
    if (existing) {
      existing.users += 1
      existing.keptForEdits = false
      return existing.handle
    }
    const readOnly = this.#options.readOnly
    // The activity document is written by the server only.
    const serverWritten = parseDocumentName(name)?.kind === 'activity'
    const handle = new DocumentHandle({
      name,
      socket: this.socket,
      token: this.#options.token,
      user: this.#options.user,
      readOnly: serverWritten || (typeof readOnly === 'function' ? () => readOnly(name) : readOnly),
      localScope: this.#options.persistence === false ? null : this.#options.user.id,
      onRefused: (h, reason, message) => this.#options.onRefused?.(h.name, reason, message),
      onAuthenticationFailed: (h, reason) => this.#options.onAuthenticationFailed?.(h.name, reason),
    })
    this.#entries.set(name, { handle, users: 1, keptForEdits: false })
    return handle
  }

  release(document: OpenDocument): void {
    const entry = this.#entries.get(document.name)
    if (!entry || entry.handle !== document) return
    entry.users -= 1
    if (entry.users > 0) return
    // This user's undo history lives with the document: kept open for the
    // tab's session, the next page that shows it can still undo what was
    // done before (a new Y.Doc would start with an empty history).
    if (hasUndoHistory(entry.handle.doc)) return
    // Closing now would leave an unsaved edit only in IndexedDB until the
    // document is opened again: keep it until the server has it. Without
    // one it closes at the next check, not at once: a page that opens the
    // same document again right away (its state rebuilt) keeps this handle.
    // A new provider replacing a closed one on the same socket could be cut
    // off by the old one's close message, which is queued while offline and
    // sent once the socket reconnects.
    entry.keptForEdits = entry.handle.unsavedChanges > 0
    this.#startKeepOpenCheck()
  }

  /**
   * Opens (in the background) this user's documents that still hold edits a
   * previous page load could not save, so they are sent as soon as the
   * connection allows, whichever page the admin is on.
   */
  resumePendingEdits(filter: (name: string) => boolean = () => true): void {
    for (const name of PendingEdits.documentsWithPendingEdits(this.#options.user.id)) {
      if (!filter(name) || this.#entries.has(name)) continue
      const handle = this.open(name)
      this.release(handle)
    }
  }

  /**
   * Sends the current token to the server on every open document now, e.g.
   * right after it was refreshed: the server then extends write access past
   * the old token's expiry.
   */
  sendToken(): void {
    for (const handle of this.documents) void handle.sendToken()
  }

  /** Skips the backoff: try to connect now. */
  reconnectNow(): void {
    if (this.#destroyed) return
    void this.socket.connect()
  }

  #onOnline = (): void => {
    this.#browserOnline = true
    this.#updateStatus()
    this.reconnectNow()
  }

  #onOffline = (): void => {
    this.#browserOnline = false
    this.#updateStatus()
  }

  #updateStatus(): void {
    if (this.#socketStatus === WebSocketStatus.Connected) this.#status = 'connected'
    else if (!this.#browserOnline) this.#status = 'offline'
    else this.#status = this.#everConnected ? 'reconnecting' : 'connecting'
  }

  #startKeepOpenCheck(): void {
    this.#keepOpenTimer ??= setInterval(() => {
      let waiting = 0
      for (const [name, entry] of this.#entries) {
        if (entry.users > 0 || hasUndoHistory(entry.handle.doc)) continue
        if (entry.handle.unsavedChanges === 0 && (entry.handle.synced || !entry.keptForEdits)) this.#close(name)
        else waiting += 1
      }
      if (waiting === 0 && this.#keepOpenTimer) {
        clearInterval(this.#keepOpenTimer)
        this.#keepOpenTimer = null
      }
    }, KEEP_OPEN_CHECK_MS)
  }

  #close(name: string): void {
    const entry = this.#entries.get(name)
    if (!entry) return
    this.#entries.delete(name)
    entry.handle.destroy()
  }

  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    if (this.#keepOpenTimer) clearInterval(this.#keepOpenTimer)
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.#onOnline)
      window.removeEventListener('offline', this.#onOffline)
    }
    for (const name of [...this.#entries.keys()]) this.#close(name)
    this.socket.destroy()
  }
}

import { HocuspocusProvider, HocuspocusProviderWebsocket, WebSocketStatus } from '@hocuspocus/provider'
import { docName, isValidId, parseDocumentName, parseRefusal, scenariosRoot, type SpaceDocs } from '@botsync/shared-docs'
import * as Y from 'yjs'
import type { Logger } from '../logger.ts'
import { ReplicaFile } from './replica-file.ts'

/** Origin of updates read from the replica file. */
const FROM_FILE = Symbol('botsync:replica-file')

export interface SpaceReplicaOptions {
  /** ws(s)://…/collab */
  url: string
  /** BOT_SERVICE_TOKEN */
  token: string
  space: string
  log: Logger
  /** Where the replica is saved; without it nothing is saved or loaded. */
  file?: string
  /** Longest time a change waits before it is written to the file. Default 1 s. */
  saveDelayMs?: number
  /** Reconnect backoff bounds. Defaults 250 ms … 5 s. */
  minReconnectDelayMs?: number
  maxReconnectDelayMs?: number
  /** Sync round-trip on the settings document that keeps an idle socket open. Default 10 s. */
  heartbeatMs?: number
}

interface Replicated {
  doc: Y.Doc
  provider: HocuspocusProvider
  /** A local change was made to this copy; it is being replaced. */
  tainted: boolean
  retireTimer?: NodeJS.Timeout
}

/**
 * The bot's read-only live copy of one space: `<space>/settings`, `/buttons`,
 * `/scenarios` and every `<space>/scenario/<id>` the index lists, over one
 * multiplexed socket. Scenario documents are opened and closed as the index
 * changes. The copy is saved to a file (debounced) and loaded before
 * connecting, so the bot answers while the server is down and the providers
 * only fetch what it missed when it comes back.
 *
 * Nothing here writes a document. The server refuses writes from the bot
 * token anyway; should code in this process change a replicated Y.Doc
 * nevertheless, the change is logged and that copy is thrown away and rebuilt
 * from the saved file and the server, so the bot never answers with content
 * nobody saved.
 */
export class SpaceReplica {
  readonly space: string
  private readonly options: SpaceReplicaOptions
  private readonly log: Logger
  private readonly socket: HocuspocusProviderWebsocket
  private readonly file: ReplicaFile | undefined
  private readonly documents = new Map<string, Replicated>()
  private readonly listeners = new Set<() => void>()
  /** Last state written to (or read from) the file per document; a tainted copy restarts from here. */
  private readonly saved = new Map<string, Uint8Array>()
  /** Replaced copies whose provider still waits for the server's refusal. */
  private readonly retired = new Set<Replicated>()
  private changeCount = 0
  private wasConnected = false
  private saveTimer: NodeJS.Timeout | undefined
  private saving: Promise<void> | undefined
  private dirty = false
  private stopped = false

  constructor(options: SpaceReplicaOptions) {
    this.options = options
    this.space = options.space
    this.log = options.log
    this.file = options.file ? new ReplicaFile(options.file) : undefined
    this.socket = new HocuspocusProviderWebsocket({
      url: options.url,
      autoConnect: false,
      maxAttempts: 0,
      delay: options.minReconnectDelayMs ?? 250,
      minDelay: options.minReconnectDelayMs ?? 250,
      maxDelay: options.maxReconnectDelayMs ?? 5000,
      onStatus: ({ status }) => this.onSocketStatus(status),
    })
  }

  /**
   * Loads the saved copy, then connects. Returns how many documents came from
   * the file (0 on a first start). An unreadable file is logged and ignored:
   * the server has everything.
   */
  async start(): Promise<number> {
    let restored = new Map<string, Uint8Array>()
    if (this.file) {
      try {
        restored = await this.file.load(this.space)
      } catch (error) {
        this.log.warn({ event: 'replica-file-unreadable', file: this.file.path, err: error }, 'starting with an empty replica')
      }
    }
    for (const name of [docName.settings(this.space), docName.buttons(this.space), docName.scenarios(this.space)]) {
      this.open(name, restored.get(name))
    }
    this.syncScenarioDocuments(restored)
    this.socket.connect().catch(() => {})
    if (restored.size > 0) this.log.info({ event: 'replica-restored', documents: restored.size, file: this.file?.path })
    return restored.size
  }

  get settings(): Y.Doc {
    return this.required(docName.settings(this.space))
  }

  get buttons(): Y.Doc {
    return this.required(docName.buttons(this.space))
  }

  get scenarios(): Y.Doc {
    return this.required(docName.scenarios(this.space))
  }

  /** The documents in the shape shared-docs projects and validates. */
  docs(): SpaceDocs {
    const scenarioDocs = new Map<string, Y.Doc>()
    for (const [name, { doc }] of this.documents) {
      const scenarioId = this.scenarioIdOf(name)
      if (scenarioId !== null) scenarioDocs.set(scenarioId, doc)
    }
    return { settings: this.settings, buttons: this.buttons, scenarios: this.scenarios, scenarioDocs }
  }

  /** The live Y.Doc of a replicated document name (tests and diagnostics). */
  document(name: string): Y.Doc | undefined {
    return this.documents.get(name)?.doc
  }

  documentNames(): string[] {
    return [...this.documents.keys()].sort()
  }

  /** Grows with every change the replica applies; a cheap "has anything changed" check. */
  get version(): number {
    return this.changeCount
  }

  get connected(): boolean {
    return this.socket.status === WebSocketStatus.Connected
  }

  /** Called after every applied change; returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** True once every open document has synced with the server (false after `timeoutMs`). */
  whenSynced(timeoutMs = 10_000): Promise<boolean> {
    const isSynced = (): boolean => [...this.documents.values()].every(({ provider }) => provider.isSynced)
    if (isSynced()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const check = (): void => {
        if (!isSynced()) return
        finish(true)
      }
      const timer = setTimeout(() => finish(false), timeoutMs)
      // Providers report 'synced' through notify(), like changes.
      const unsubscribe = this.onChange(check)
      const finish = (result: boolean): void => {
        clearTimeout(timer)
        unsubscribe()
        resolve(result)
      }
    })
  }

  /** Writes the file now if anything changed since the last write. */
  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer)
      this.saveTimer = undefined
    }
    while (this.saving) await this.saving
    if (this.dirty) await this.save()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.flush()
    for (const entry of [...this.retired]) this.retire(entry)
    for (const { provider, doc } of this.documents.values()) {
      provider.destroy()
      doc.destroy()
    }
    this.documents.clear()
    this.socket.destroy()
  }

  // ------------------------------------------------------------ documents

  private required(name: string): Y.Doc {
    const entry = this.documents.get(name)
    if (!entry) throw new Error(`SpaceReplica: ${name} is not open (call start() first)`)
    return entry.doc
  }

  private open(name: string, state?: Uint8Array): void {
    const doc = new Y.Doc()
    if (state) {
      try {
        Y.applyUpdate(doc, state, FROM_FILE)
        this.saved.set(name, state)
      } catch (error) {
        this.log.warn({ event: 'replica-file-document-skipped', document: name, err: error }, 'saved copy unreadable; syncing it from the server')
      }
    }
    const entry: Replicated = { doc, provider: undefined as unknown as HocuspocusProvider, tainted: false }
    // Registered before the provider's own listener, so a local change is
    // flagged before anything else sees it.
    doc.on('update', (_update: Uint8Array, origin: unknown) => this.onDocumentUpdate(name, entry, origin))
    entry.provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name,
      document: doc,
      token: this.options.token,
      // No presence: the bot is not a collaborator admins should see.
      awareness: null,
      // Each provider gets its own routing key on the shared socket. Without
      // it, a document closed and reopened at once (a scenario removed and
      // restored, a copy rebuilt) reuses the key while the server is still
      // closing the old one, and the server drops the new subscription.
      sessionAwareness: true,
      // Without awareness nothing crosses an idle socket, and both ends drop
      // a silent connection after 30 s; one periodic sync round-trip keeps it.
      forceSyncInterval: name === docName.settings(this.space) ? (this.options.heartbeatMs ?? 10_000) : false,
      onSynced: () => this.notify(),
      onAuthenticationFailed: ({ reason }) => this.log.error({ event: 'replica-refused', document: name, reason }, 'the server refused the bot token'),
      onStateless: ({ payload }) => this.onStateless(name, entry, payload),
    })
    this.documents.set(name, entry)
    entry.provider.attach()
  }

  private close(name: string): void {
    const entry = this.documents.get(name)
    if (!entry) return
    this.documents.delete(name)
    this.saved.delete(name)
    entry.provider.destroy()
    entry.doc.destroy()
    this.changed()
  }

  /** Opens the content document of every scenario in the index, closes the rest. */
  private syncScenarioDocuments(restored?: Map<string, Uint8Array>): void {
    const wanted = new Set<string>()
    scenariosRoot(this.scenarios).forEach((_entry, id) => {
      if (isValidId(id)) wanted.add(docName.scenario(this.space, id))
    })
    for (const name of [...this.documents.keys()]) {
      if (this.scenarioIdOf(name) !== null && !wanted.has(name)) this.close(name)
    }
    for (const name of wanted) {
      if (!this.documents.has(name)) this.open(name, restored?.get(name))
    }
  }

  /** The scenario id of this space's `<space>/scenario/<id>` document name, else null. */
  private scenarioIdOf(name: string): string | null {
    const parsed = parseDocumentName(name)
    return parsed?.kind === 'scenario' && parsed.space === this.space ? parsed.scenarioId : null
  }

  private onDocumentUpdate(name: string, entry: Replicated, origin: unknown): void {
    if (origin !== entry.provider && origin !== FROM_FILE) {
      this.onLocalWrite(name, entry)
      return
    }
    if (origin === entry.provider && name === docName.scenarios(this.space)) this.syncScenarioDocuments()
    this.changed()
  }

  private onLocalWrite(name: string, entry: Replicated): void {
    if (entry.tainted) return
    entry.tainted = true
    this.log.error({ event: 'replica-local-write', document: name }, 'something in the bot changed its read-only replica; the server refuses it and the copy is rebuilt')
    // Not inside the transaction that made the change.
    setImmediate(() => {
      if (this.stopped || this.documents.get(name) !== entry) return
      this.documents.delete(name)
      // The old provider stays a moment to hear the server's refusal (logged
      // by onStateless), then goes; the runner already reads the new copy.
      this.retired.add(entry)
      entry.retireTimer = setTimeout(() => this.retire(entry), 5000)
      this.open(name, this.saved.get(name))
      if (name === docName.scenarios(this.space)) this.syncScenarioDocuments()
      this.changed()
    })
  }

  /** Logs only the transitions between connected and not, not every retry. */
  private onSocketStatus(status: WebSocketStatus): void {
    const connected = status === WebSocketStatus.Connected
    if (connected === this.wasConnected) return
    this.wasConnected = connected
    if (connected) this.log.info({ event: 'replica-connected', url: this.options.url })
    else this.log.warn({ event: 'replica-disconnected', url: this.options.url }, 'answering from the last known content until the server is back')
  }

  private onStateless(name: string, entry: Replicated, payload: string): void {
    const refusal = parseRefusal(payload)
    if (refusal) {
      this.log.warn({ event: 'replica-write-refused', document: name, reason: refusal.reason }, 'the server refused a change from the replica')
      if (this.retired.has(entry)) this.retire(entry)
    }
  }

  private retire(entry: Replicated): void {
    if (!this.retired.delete(entry)) return
    clearTimeout(entry.retireTimer)
    entry.provider.destroy()
    entry.doc.destroy()
  }

  private changed(): void {
    this.changeCount += 1
    this.scheduleSave()
    this.notify()
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener()
      } catch (error) {
        this.log.error({ event: 'replica-listener-failed', err: error })
      }
    }
  }

  // ------------------------------------------------------------ the file

  private scheduleSave(): void {
    if (!this.file || this.stopped) return
    this.dirty = true
    // A fixed window rather than a resetting debounce: a steady stream of
    // edits still reaches the disk every saveDelayMs.
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined
      void this.save()
    }, this.options.saveDelayMs ?? 1000)
  }

  private save(): Promise<void> {
    if (!this.file) return Promise.resolve()
    if (this.saving) {
      this.dirty = true
      return this.saving
    }
    this.dirty = false
    const states = new Map<string, Uint8Array>()
    for (const [name, entry] of this.documents) {
      const state = entry.tainted ? this.saved.get(name) : Y.encodeStateAsUpdate(entry.doc)
      if (state) states.set(name, state)
    }
    const file = this.file
    this.saving = file
      .save(this.space, states)
      .then(() => {
        for (const [name, state] of states) if (this.documents.has(name)) this.saved.set(name, state)
      })
      .catch((error: unknown) => {
        this.dirty = true
        this.log.error({ event: 'replica-save-failed', file: file.path, err: error }, 'could not save the replica; will retry')
      })
      .finally(() => {
        this.saving = undefined
        if (this.dirty && !this.stopped) this.scheduleSave()
      })
    return this.saving
  }
}

import { HocuspocusProvider, HocuspocusProviderWebsocket, WebSocketStatus } from '@hocuspocus/provider'
import { randomBytes } from 'node:crypto'
import {
  catchUpRequest,
  coversStateVector,
  docName,
  isValidId,
  parseCatchUpAnswer,
  parseDocumentName,
  parseRefusal,
  scenariosRoot,
  type ParsedCatchUpAnswer,
  type SpaceDocs,
} from '@botsync/shared-docs'
import * as Y from 'yjs'
import type { Logger } from '../logger.ts'
import { ReplicaFile } from './replica-file.ts'

/** Scenario documents opened at once while the replica fills (see openWaiting). */
const OPENING_AT_ONCE = 50

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
  /** Longest catchUp() waits for the server's answer and the content it names. Default 2 s. */
  catchUpTimeoutMs?: number
}

/** What catchUp() found; the bot answers in every case (bounded wait, never an error). */
export type CatchUpResult =
  /** The replica holds everything the server had stored when catchUp() was called. */
  | 'caught-up'
  /** No connection to ask over: the bot answers from its last known content. */
  | 'offline'
  /** The server did not answer, or its content did not arrive, within catchUpTimeoutMs. */
  | 'timeout'
  /** The server could not read its stored state (it said so). */
  | 'failed'

interface Replicated {
  doc: Y.Doc
  provider: HocuspocusProvider
  /** A local change was made to this copy; it is being replaced. */
  tainted: boolean
  retireTimer?: NodeJS.Timeout
}

/**
 * The bot's read-only live copy of one space: `<space>/settings`, `/buttons`,
 * `/scenarios`, every `<space>/scenario/<id>` the index lists and
 * `<space>/published` (the releases review mode answers from), over one
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
  /** Scenario documents the index lists that are not open yet (with their saved state), opened a few at a time. */
  private readonly waiting = new Map<string, Uint8Array | undefined>()
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
  /** Catch-up requests waiting for the server's answer, by request id. */
  private readonly pendingCatchUps = new Map<string, (answer: ParsedCatchUpAnswer | null) => void>()
  private catchUpCounter = 0
  /** Grows with every reset (the replica was discarded); a catch-up running across one starts over. */
  private generation = 0
  private resetting = false

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
    for (const name of this.fixedDocuments()) this.open(name, restored.get(name))
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

  /** `<space>/published`: the publish mode and the current release (server-written; see shared-docs published.ts). */
  get published(): Y.Doc {
    return this.required(docName.published(this.space))
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

  /**
   * Read-your-writes: resolves once this replica holds everything the server
   * had stored when it was called (shared-docs catch-up.ts). One round trip
   * on the existing socket: the server answers with each content document's
   * stored state vector, then this waits until the replica covers them and
   * every open document has had its first sync. Bounded by
   * catchUpTimeoutMs; never rejects, so an answer goes out whatever happens
   * (from the last known content when the server is away).
   */
  async catchUp(): Promise<CatchUpResult> {
    const deadline = performance.now() + (this.options.catchUpTimeoutMs ?? 2000)
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation
      const result = await this.catchUpOnce(deadline)
      // A reset replaced every document (and the provider the answer was addressed to): once more on the new ones.
      if (generation !== this.generation && attempt < 2 && !this.stopped && performance.now() < deadline) continue
      if (result === 'timeout') this.logTimeout()
      return result
    }
  }

  /** Documents the last catch-up still waited for (diagnostics). */
  private uncovered: string[] = []
  private timeoutsSinceLog = 0
  private lastTimeoutLog = Number.NEGATIVE_INFINITY

  /**
   * At most one line per 30 s: while Redis is down, say, every batch times
   * out on content another instance saved, and one line says so with a count.
   */
  private logTimeout(): void {
    this.timeoutsSinceLog += 1
    const now = performance.now()
    if (now - this.lastTimeoutLog < 30_000) return
    this.log.warn(
      { event: 'catch-up-timeout', documents: this.uncovered.length ? this.uncovered : undefined, batches: this.timeoutsSinceLog },
      'answering before the replica caught up with the server',
    )
    this.lastTimeoutLog = now
    this.timeoutsSinceLog = 0
  }

  private async catchUpOnce(deadline: number): Promise<CatchUpResult> {
    if (this.stopped) return 'offline'
    // A connection attempt under way (the first one after start, a
    // reconnection) ends soon either way: worth waiting for. A socket known
    // to be down means the server is away: answer from the replica now.
    if (!this.connected && this.socket.status === WebSocketStatus.Connecting) {
      await this.waitUntil(() => this.connected || this.socket.status !== WebSocketStatus.Connecting, deadline, true)
    }
    if (!this.connected) return 'offline'
    // First syncs first (allSynced): until the server has acknowledged what
    // the replica sent in its sync exchange, the replica may hold content the
    // server lacks, and answering from it could show what nobody saved.
    if (!(await this.waitUntil(() => !this.resetting && this.allSynced(), deadline))) return this.connected ? 'timeout' : 'offline'
    const settings = this.documents.get(docName.settings(this.space))
    if (!settings) return 'offline'
    const id = `${process.pid}-${++this.catchUpCounter}-${randomBytes(3).toString('hex')}`
    const answered = new Promise<ParsedCatchUpAnswer | null>((resolve) => {
      const timer = setTimeout(() => finish(null), Math.max(0, deadline - performance.now()))
      const finish = (answer: ParsedCatchUpAnswer | null): void => {
        clearTimeout(timer)
        this.pendingCatchUps.delete(id)
        resolve(answer)
      }
      this.pendingCatchUps.set(id, finish)
    })
    settings.provider.sendStateless(catchUpRequest(id))
    const answer = await answered
    if (!answer) return this.connected ? 'timeout' : 'offline'
    if ('error' in answer) {
      this.log.warn({ event: 'catch-up-refused', reason: answer.error }, 'the server could not say what it has stored; answering from the replica as it is')
      return 'failed'
    }
    const covered = (): boolean => {
      const missing: string[] = []
      for (const [name, vector] of answer.documents) {
        // A document the replica does not open (a scenario its index no
        // longer lists) cannot be in an answer; one the index is about to
        // list is opened once the index covers its vector, and checked then.
        const entry = this.documents.get(name)
        if (entry && !coversStateVector(entry.doc, vector)) missing.push(name)
      }
      this.uncovered = missing
      return missing.length === 0 && !this.resetting && this.allSynced()
    }
    return (await this.waitUntil(covered, deadline)) ? 'caught-up' : this.connected ? 'timeout' : 'offline'
  }

  /**
   * Every open document has finished its sync exchange: the server's
   * content arrived (isSynced) and the server acknowledged the replica's own
   * answer to its sync step 1 (unsyncedChanges back to 0). A replica holding
   * content the server lacks never gets that acknowledgement; it gets a
   * refusal instead, and is reset (see reset()).
   */
  private allSynced(): boolean {
    for (const { provider } of this.documents.values()) if (!provider.isSynced || provider.unsyncedChanges > 0) return false
    return true
  }

  /** True once `condition` holds (checked after every change), false at the deadline or on disconnection (unless `whileDisconnected`). */
  private waitUntil(condition: () => boolean, deadline: number, whileDisconnected = false): Promise<boolean> {
    if (condition()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - performance.now()))
      const unsubscribe = this.onChange(() => {
        if ((!this.connected && !whileDisconnected) || this.stopped) finish(false)
        else if (condition()) finish(true)
      })
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
    for (const finish of [...this.pendingCatchUps.values()]) finish(null)
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

  /**
   * The documents open whatever the index says: the drafts' settings, buttons
   * and index, and the published document the bot answers from in review mode.
   */
  private fixedDocuments(): string[] {
    return [docName.settings(this.space), docName.buttons(this.space), docName.scenarios(this.space), docName.published(this.space)]
  }

  private required(name: string): Y.Doc {
    const entry = this.documents.get(name)
    if (!entry) throw new Error(`SpaceReplica: ${name} is not open (call start() first)`)
    return entry.doc
  }

  private open(name: string, state?: Uint8Array): void {
    // The name as guid: the default is a uuidv4 made of 31 crypto calls, ~0.4 ms per
    // document here, which a first start on hundreds of scenarios pays for each
    // (nothing reads the guid: the provider addresses the document by name).
    const doc = new Y.Doc({ guid: name })
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
      onSynced: () => {
        this.notify()
        this.openWaiting()
      },
      onUnsyncedChanges: () => this.notify(),
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
      if (!this.documents.has(name) && !this.waiting.has(name)) this.waiting.set(name, restored?.get(name))
    }
    for (const name of [...this.waiting.keys()]) if (!wanted.has(name)) this.waiting.delete(name)
    this.openWaiting()
  }

  /**
   * Opens waiting scenario documents while fewer than OPENING_AT_ONCE are
   * still syncing. Hocuspocus closes a socket that has more than
   * maxPendingDocuments (100) documents waiting for authentication, so a
   * space of hundreds of scenarios opened all at once would never connect.
   */
  private openWaiting(): void {
    let syncing = 0
    for (const entry of this.documents.values()) if (!entry.provider.isSynced) syncing++
    for (const [name, state] of this.waiting) {
      if (syncing >= OPENING_AT_ONCE) return
      this.waiting.delete(name)
      if (this.documents.has(name)) continue
      this.open(name, state)
      syncing++
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
    // A catch-up waiting for a connection attempt to end hears of it here.
    setImmediate(() => this.notify())
    if (connected === this.wasConnected) return
    this.wasConnected = connected
    if (connected) this.log.info({ event: 'replica-connected', url: this.options.url })
    else {
      this.log.warn({ event: 'replica-disconnected', url: this.options.url }, 'answering from the last known content until the server is back')
      // Answers to requests sent over the lost socket will not come.
      for (const finish of [...this.pendingCatchUps.values()]) finish(null)
      this.notify()
    }
  }

  private onStateless(name: string, entry: Replicated, payload: string): void {
    const answer = parseCatchUpAnswer(payload)
    if (answer) {
      this.pendingCatchUps.get(answer.id)?.(answer)
      return
    }
    const refusal = parseRefusal(payload)
    if (refusal) {
      this.log.warn({ event: 'replica-write-refused', document: name, reason: refusal.reason }, 'the server refused a change from the replica')
      if (this.retired.has(entry)) this.retire(entry)
      // Not a change made in this process (that copy is tainted and being
      // replaced): the replica holds content the server does not have.
      else if (!entry.tainted && this.documents.get(name) === entry) this.reset(name, refusal.reason)
    }
  }

  /**
   * The server refused the replica's sync: the replica holds content the
   * server does not (its database was restored from a backup, or this
   * replica file belongs to another database). Answering from it would show
   * content nobody can see in the admin, forever. So the whole replica is
   * discarded, the file deleted, and every document synced afresh from the
   * server; logged once per reset.
   */
  private reset(document: string, reason: string): void {
    if (this.resetting || this.stopped) return
    this.resetting = true
    this.generation += 1
    this.log.warn(
      { event: 'replica-reset', document, reason, file: this.file?.path },
      'the replica holds content the server does not have (restored database? replica file of another one?); discarding it and syncing again from the server',
    )
    for (const finish of [...this.pendingCatchUps.values()]) finish(null)
    // Not inside the provider's own message handler.
    setImmediate(() => {
      this.resetting = false
      if (this.stopped) return
      for (const entry of this.documents.values()) {
        entry.provider.destroy()
        entry.doc.destroy()
      }
      this.documents.clear()
      this.saved.clear()
      // The file goes before anything new is saved into it: a save running
      // now finishes first, later saves wait for the removal (save() sees
      // `saving` and reschedules).
      const file = this.file
      if (file) {
        const previous = this.saving ?? Promise.resolve()
        this.saving = previous
          .then(() => file.remove())
          .catch((error: unknown) => this.log.error({ event: 'replica-file-remove-failed', file: file.path, err: error }, 'could not delete the replica file'))
          .finally(() => {
            this.saving = undefined
            if (this.dirty && !this.stopped) this.scheduleSave()
          })
      }
      for (const name of this.fixedDocuments()) this.open(name)
      this.syncScenarioDocuments()
      this.changed()
    })
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

// #/<space>/history: the space's releases and checkpoints (GET …/versions),
// the change list of the selected one against the version before it or the
// current drafts (GET …/versions/:id/changes), and restore.
//
// A restore runs here, on this admin's own copies of the documents, as a
// local edit (the same write plan as the server's import, shared-docs'
// space-writes.ts), instead of POST …/restore: so it reaches co-editors as
// any edit does, is stored as this admin's updates, and this page's undo
// history holds it, so Ctrl+Z takes it back without touching what others
// typed meanwhile.
import {
  DRAFT,
  scenarioPlan,
  spaceContentPlan,
  type AttributedChange,
  type ChangesAnswer,
  type PublishMode,
  type SpaceExport,
  type VersionSummary,
  type VersionsAnswer,
  type WritePlan,
} from '@botsync/shared-docs'
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { edit } from '../yjs/edit-origin.ts'
import { UndoHistory } from '../yjs/undo-history.svelte.ts'

export type Comparison = 'previous' | 'draft'
export type RestoreOutcome = { ok: true; changed: number } | { ok: false; message: string }

/** Documents opened at once for a restore: the server's provider refuses more than 100 pending. */
const OPEN_BATCH = 25
/** How long a restore waits for a document to sync with the server. */
const SYNC_TIMEOUT_MS = 15_000

function whenSynced(document: OpenDocument, timeoutMs: number): Promise<boolean> {
  const started = Date.now()
  return new Promise((resolve) => {
    const check = (): void => {
      if (document.serverSynced) resolve(true)
      else if (Date.now() - started > timeoutMs) resolve(false)
      else setTimeout(check, 50)
    }
    check()
  })
}

export class HistoryState {
  readonly space: string
  readonly undo = new UndoHistory()
  readonly #api: ApiClient
  readonly #source: DocumentSource
  /** Documents a restore wrote: kept open while the page is, so undo can reach them. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #opened = new Map<string, OpenDocument>()
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a cache, never rendered
  readonly #exports = new Map<string, SpaceExport>()
  #versions = $state<VersionSummary[]>([])
  #mode = $state<PublishMode | null>(null)
  #current = $state<number | null>(null)
  #loaded = $state(false)
  #error = $state<string | null>(null)
  #selectedId = $state<string | null>(null)
  #comparison = $state<Comparison>('previous')
  #changes = $state<AttributedChange[] | null>(null)
  #changesError = $state<string | null>(null)
  #scenarios = $state<{ id: string; title: string }[]>([])
  #restoring = $state(false)
  #request = 0
  #destroyed = false

  constructor(source: DocumentSource, space: string, options: ApiOptions) {
    this.space = space
    this.#source = source
    this.#api = new ApiClient(options)
  }

  /** Newest first. */
  get versions(): readonly VersionSummary[] {
    return this.#versions
  }

  get mode(): PublishMode | null {
    return this.#mode
  }

  /** The release the bot answers from in review mode. */
  get currentRelease(): number | null {
    return this.#current
  }

  get loaded(): boolean {
    return this.#loaded
  }

  get error(): string | null {
    return this.#error
  }

  get selected(): VersionSummary | null {
    return this.#versions.find((v) => v.id === this.#selectedId) ?? null
  }

  /** The version before the selected one (the next in the newest-first list). */
  get previous(): VersionSummary | null {
    const index = this.#versions.findIndex((v) => v.id === this.#selectedId)
    return index >= 0 ? (this.#versions[index + 1] ?? null) : null
  }

  get comparison(): Comparison {
    return this.#comparison
  }

  /** The change list on screen; null while it loads. */
  get changes(): readonly AttributedChange[] | null {
    return this.#changes
  }

  get changesError(): string | null {
    return this.#changesError
  }

  /** The selected version's scenarios, for restoring one of them. */
  get scenarios(): readonly { id: string; title: string }[] {
    return this.#scenarios
  }

  get restoring(): boolean {
    return this.#restoring
  }

  #base(): string {
    return `/api/spaces/${segment(this.space)}`
  }

  async refresh(): Promise<boolean> {
    const result = await this.#api.get<VersionsAnswer>(`${this.#base()}/versions`)
    if (this.#destroyed) return false
    if (!result.ok || !Array.isArray(result.body?.versions)) {
      this.#error = result.ok ? 'The server sent an unexpected list of versions.' : result.message
      return false
    }
    this.#versions = result.body.versions
    this.#mode = result.body.mode
    this.#current = result.body.current
    this.#error = null
    this.#loaded = true
    if (!this.selected && this.#versions.length > 0) await this.select(this.#versions[0].id)
    return true
  }

  async select(id: string): Promise<void> {
    this.#selectedId = id
    await this.#loadChanges()
  }

  async compareWith(comparison: Comparison): Promise<void> {
    this.#comparison = comparison
    await this.#loadChanges()
  }

  async #loadChanges(): Promise<void> {
    const selected = this.selected
    const request = ++this.#request
    this.#changes = null
    this.#changesError = null
    this.#scenarios = []
    if (!selected) return
    const previous = this.previous
    // The first version has nothing before it: its changes are shown against the drafts.
    const [from, against] = this.#comparison === 'draft' || !previous ? [selected.id, DRAFT] : [previous.id, selected.id]
    const [changes, file] = await Promise.all([
      this.#api.get<ChangesAnswer>(`${this.#base()}/versions/${segment(from)}/changes?against=${encodeURIComponent(against)}`),
      this.#exportOf(selected.id),
    ])
    if (request !== this.#request || this.#destroyed) return
    if (!changes.ok) this.#changesError = changes.message
    else this.#changes = changes.body.changes
    if (file.ok) this.#scenarios = file.value.content.scenarios.map((s) => ({ id: s.id, title: s.title }))
  }

  async #exportOf(id: string): Promise<{ ok: true; value: SpaceExport } | { ok: false; message: string }> {
    const cached = this.#exports.get(id)
    if (cached) return { ok: true, value: cached }
    const result = await this.#api.get<SpaceExport>(`${this.#base()}/versions/${segment(id)}/export`)
    if (!result.ok) return { ok: false, message: result.message }
    // Versions never change: one read each.
    this.#exports.set(id, result.body)
    return { ok: true, value: result.body }
  }

  /** Writes the version (or one scenario of it) into the drafts, as one undoable edit of this admin's. */
  async restore(versionId: string, scenarioId?: string): Promise<RestoreOutcome> {
    this.#restoring = true
    try {
      const file = await this.#exportOf(versionId)
      if (!file.ok) return file
      let plan: WritePlan
      if (scenarioId === undefined) plan = spaceContentPlan(this.space, file.value.content)
      else {
        const scenario = file.value.content.scenarios.find((s) => s.id === scenarioId)
        if (!scenario) return { ok: false, message: 'This version has no such scenario.' }
        plan = scenarioPlan(this.space, scenario)
      }
      const opened = await this.#openAll(plan.flat().map((write) => write.name))
      if (!opened.ok) return opened
      // One undo step for the whole restore, apart from anything before or after it.
      this.undo.stopCapturing()
      let changed = 0
      for (const phase of plan) {
        for (const write of phase) {
          const document = this.#opened.get(write.name)!
          this.undo.track(write.root(document.doc))
          let touched = false
          const mark = (): void => void (touched = true)
          document.doc.on('update', mark)
          try {
            edit(document.doc, () => write.write(document.doc))
          } finally {
            document.doc.off('update', mark)
          }
          if (touched) changed++
        }
      }
      this.undo.stopCapturing()
      return { ok: true, changed }
    } finally {
      this.#restoring = false
    }
  }

  /** Opens the documents (a batch at a time) and waits until each has synced with the server, so the restore is written over what the server holds. */
  async #openAll(names: string[]): Promise<{ ok: true } | { ok: false; message: string }> {
    for (let i = 0; i < names.length; i += OPEN_BATCH) {
      const batch = names.slice(i, i + OPEN_BATCH).map((name) => {
        let document = this.#opened.get(name)
        if (!document) {
          document = this.#source.open(name)
          this.#opened.set(name, document)
        }
        return document
      })
      const synced = await Promise.all(batch.map((document) => whenSynced(document, SYNC_TIMEOUT_MS)))
      if (this.#destroyed) return { ok: false, message: 'The page was closed.' }
      if (synced.includes(false)) return { ok: false, message: 'Cannot reach the server: a restore needs the current drafts. Nothing was changed.' }
      if (batch.some((document) => document.readOnly)) return { ok: false, message: 'This space is read-only for you: nothing was changed.' }
    }
    return { ok: true }
  }

  destroy(): void {
    this.#destroyed = true
    this.undo.destroy()
    for (const document of this.#opened.values()) this.#source.release(document)
    this.#opened.clear()
  }
}

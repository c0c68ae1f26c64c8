// The space's publish mode and "N unpublished changes", for the header's
// Publish button and Settings' mode switch (GET …/publish-status, POST
// …/releases, PUT …/publish-mode). The count is the server's: it compares
// the current release with the drafts. It is re-read when a release or a
// mode change arrives in `<space>/published` (live, whoever published), when
// this admin's edits are saved (`refreshSoon`, called by the shell), and
// every POLL_MS while the page is visible, which covers other admins' edits.
import { docName, observePublished, type PublishMode, type PublishStatus, type VersionSummary } from '@botsync/shared-docs'
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { everyWhileVisible } from '../ui/visible-interval.ts'

export const PUBLISH_POLL_MS = 10_000
/** Saves come in bursts while someone types: one re-read after the burst. */
const REFRESH_DEBOUNCE_MS = 700

export type PublishResult = { ok: true; release: VersionSummary } | { ok: false; message: string }
export type ModeResult = { ok: true } | { ok: false; message: string }

function parseStatus(body: unknown): PublishStatus | null {
  const value = body as Partial<PublishStatus> | null
  if (!value || (value.mode !== 'live' && value.mode !== 'review') || typeof value.unpublished !== 'number') return null
  return { mode: value.mode, release: value.release ?? null, unpublished: value.unpublished }
}

export class PublishState {
  readonly space: string
  readonly #api: ApiClient
  readonly #source: DocumentSource
  readonly #published: OpenDocument
  readonly #unobserve: () => void
  #status = $state<PublishStatus | null>(null)
  #error = $state<string | null>(null)
  #busy = $state(false)
  #stopPolling: (() => void) | null = null
  #soon: ReturnType<typeof setTimeout> | null = null
  #destroyed = false

  constructor(source: DocumentSource, space: string, options: ApiOptions) {
    this.space = space
    this.#api = new ApiClient(options)
    this.#source = source
    // Written by the server only (releases, the mode): a change there is a publish or a mode switch by anyone.
    this.#published = source.open(docName.published(space))
    this.#unobserve = observePublished(this.#published.doc, () => this.refreshSoon())
  }

  /** What the server last said; null before the first answer. */
  get status(): PublishStatus | null {
    return this.#status
  }

  get mode(): PublishMode | null {
    return this.status?.mode ?? null
  }

  /** Changes between the current release and the drafts. */
  get unpublished(): number {
    return this.status?.unpublished ?? 0
  }

  get error(): string | null {
    return this.#error
  }

  /** A publish or a mode change is under way. */
  get busy(): boolean {
    return this.#busy
  }

  #base(): string {
    return `/api/spaces/${segment(this.space)}`
  }

  async refresh(): Promise<boolean> {
    const result = await this.#api.get(`${this.#base()}/publish-status`)
    if (this.#destroyed) return false
    const status = result.ok ? parseStatus(result.body) : null
    if (!status) {
      this.#error = result.ok ? 'The server sent an unexpected publish status.' : result.message
      return false
    }
    this.#status = status
    this.#error = null
    return true
  }

  /** Re-reads the status once a burst of changes has settled. */
  refreshSoon(): void {
    if (this.#destroyed) return
    if (this.#soon) clearTimeout(this.#soon)
    this.#soon = setTimeout(() => {
      this.#soon = null
      void this.refresh()
    }, REFRESH_DEBOUNCE_MS)
  }

  /** Freezes the drafts as the next release (owner or editor). */
  async publish(note: string): Promise<PublishResult> {
    const text = note.trim()
    const result = await this.#change<VersionSummary>('POST', 'releases', text === '' ? {} : { note: text })
    return result.ok ? { ok: true, release: result.body } : result
  }

  /** Switches between live and review (owners). The first switch to review publishes release 1. */
  async setMode(mode: PublishMode): Promise<ModeResult> {
    const result = await this.#change('PUT', 'publish-mode', { mode })
    return result.ok ? { ok: true } : result
  }

  /** A write, busy meanwhile; the status is re-read after it went through. */
  async #change<T>(method: 'POST' | 'PUT', path: string, body: unknown): Promise<{ ok: true; body: T } | { ok: false; message: string }> {
    this.#busy = true
    try {
      const result = await this.#api.request<T>(method, `${this.#base()}/${path}`, body)
      if (!result.ok) return { ok: false, message: result.message }
      await this.refresh()
      return { ok: true, body: result.body }
    } finally {
      this.#busy = false
    }
  }

  startPolling(intervalMs = PUBLISH_POLL_MS): void {
    if (this.#stopPolling || this.#destroyed) return
    this.#stopPolling = everyWhileVisible(() => void this.refresh(), intervalMs)
  }

  destroy(): void {
    this.#destroyed = true
    this.#stopPolling?.()
    if (this.#soon) clearTimeout(this.#soon)
    this.#unobserve()
    this.#source.release(this.#published)
  }
}

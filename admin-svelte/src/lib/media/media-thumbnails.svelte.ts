// The bytes of a step's media for the preview: GET /api/spaces/:space/media/:id
// with the admin's bearer token (an <img src> could not send it), kept as a
// blob URL per id for as long as the page is open. Until the bytes are here
// — or when there are none (404, the media store not reachable) — the
// preview draws a neutral tile with the kind's icon instead.
import { SvelteMap } from 'svelte/reactivity'
import { MEDIA_ID_PATTERN } from '@botsync/shared-docs'
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'

export type Thumbnail = { state: 'loading' } | { state: 'ready'; url: string } | { state: 'missing' }

export class MediaThumbnails {
  readonly #api: ApiClient | null
  readonly #space: string
  readonly #entries = new SvelteMap<string, Thumbnail>()
  #destroyed = false

  /** Without `api` (a test, a page that cannot reach the server) every item is the placeholder tile. */
  constructor(space: string, api: ApiOptions | null) {
    this.#space = space
    this.#api = api ? new ApiClient(api) : null
  }

  /** The item's thumbnail; the first ask starts the download. */
  of(id: string | undefined): Thumbnail {
    if (!id || !this.#api || !MEDIA_ID_PATTERN.test(id)) return { state: 'missing' }
    const known = this.#entries.get(id)
    if (known) return known
    const loading: Thumbnail = { state: 'loading' }
    // Written outside the reading effect (a microtask later): reads stay pure.
    queueMicrotask(() => {
      if (this.#entries.has(id)) return
      this.#entries.set(id, loading)
      void this.#load(id)
    })
    return loading
  }

  async #load(id: string): Promise<void> {
    const answer = await this.#api!.blob(`/api/spaces/${segment(this.#space)}/media/${segment(id)}`)
    if (this.#destroyed) return
    this.#entries.set(id, answer.ok ? { state: 'ready', url: URL.createObjectURL(answer.blob) } : { state: 'missing' })
  }

  destroy(): void {
    this.#destroyed = true
    for (const entry of this.#entries.values()) if (entry.state === 'ready') URL.revokeObjectURL(entry.url)
    this.#entries.clear()
  }
}

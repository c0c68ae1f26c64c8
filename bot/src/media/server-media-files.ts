import type { MediaFiles, StoredMedia } from './media-files.ts'

export interface ServerMediaFilesOptions {
  /** http(s)://host:port of the server. */
  serverUrl: string
  /** The bot's service token (read access to its space). */
  token: string
  space: string
  /** Longest one download may take. Default 30 s (a file may be 50 MB). */
  timeoutMs?: number
}

/** A space's media files from the server: `GET /api/spaces/:space/media/:id` with the bot's token, as activity reports authenticate. */
export class ServerMediaFiles implements MediaFiles {
  private readonly options: ServerMediaFilesOptions

  constructor(options: ServerMediaFilesOptions) {
    this.options = options
  }

  async read(id: string): Promise<StoredMedia | null> {
    const { serverUrl, token, space, timeoutMs = 30_000 } = this.options
    const url = new URL(`/api/spaces/${encodeURIComponent(space)}/media/${encodeURIComponent(id)}`, serverUrl)
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) })
    if (response.status === 404) {
      await response.body?.cancel()
      return null
    }
    if (!response.ok) throw new Error(`GET ${url.pathname} answered ${response.status}: ${(await response.text()).slice(0, 200)}`)
    const bytes = new Uint8Array(await response.arrayBuffer())
    // The name comes from the media library (the settings document), not from here.
    const contentType = response.headers.get('content-type') ?? undefined
    return { bytes, ...(contentType ? { contentType } : {}) }
  }
}

// The uploads of one step's media panel: each file's progress, then its
// reason if the server refused it. A stored file is handed to `onStored`
// (which adds it to the step); a refused one stays listed with the server's
// reason until dismissed, so nothing fails silently.
import { LIMITS } from '@botsync/shared-docs'
import { uploadMedia, type UploadedMedia } from './media-upload.ts'

export interface Upload {
  readonly key: number
  readonly name: string
  readonly loaded: number
  readonly total: number
  /** Set when the file was refused. */
  readonly error: string | null
}

export interface MediaUploadsOptions {
  space: string
  token: () => string | null
  onStored: (media: UploadedMedia) => void
}

let nextKey = 1

function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`
}

export class MediaUploads {
  readonly #options: MediaUploadsOptions
  #uploads = $state<Upload[]>([])
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- never rendered: only aborted on destroy
  readonly #aborts = new Set<AbortController>()

  constructor(options: MediaUploadsOptions) {
    this.#options = options
  }

  /** Uploads in progress and refused ones, oldest first. */
  get current(): readonly Upload[] {
    return this.#uploads
  }

  get busy(): boolean {
    return this.#uploads.some((upload) => upload.error === null)
  }

  /** Sends the files one after another, in the order given (an album keeps the order they were picked in). */
  async add(files: Iterable<File>): Promise<void> {
    for (const file of files) await this.#send(file)
  }

  dismiss(key: number): void {
    this.#uploads = this.#uploads.filter((upload) => upload.key !== key)
  }

  destroy(): void {
    for (const abort of this.#aborts) abort.abort()
  }

  #set(key: number, patch: Partial<Upload>): void {
    this.#uploads = this.#uploads.map((upload) => (upload.key === key ? { ...upload, ...patch } : upload))
  }

  async #send(file: File): Promise<void> {
    const key = nextKey++
    this.#uploads = [...this.#uploads, { key, name: file.name, loaded: 0, total: file.size, error: null }]
    // No file over the Bot API's largest upload can ever be sent: refused here, before the bytes travel.
    // The server checks again, and checks the rest (the type, by content, and a photo's own limit).
    if (file.size > LIMITS.fileBytes) {
      this.#set(key, { error: `${file.name} is ${megabytes(file.size)}: the bot can send files of at most ${megabytes(LIMITS.fileBytes)}.` })
      return
    }
    const abort = new AbortController()
    this.#aborts.add(abort)
    const result = await uploadMedia({
      space: this.#options.space,
      file,
      token: this.#options.token(),
      signal: abort.signal,
      onProgress: (loaded, total) => this.#set(key, { loaded, total }),
    })
    this.#aborts.delete(abort)
    if (!result.ok) {
      if (result.error !== 'aborted') this.#set(key, { error: `${file.name}: ${result.message}` })
      return
    }
    this.dismiss(key)
    this.#options.onStored(result.media)
  }
}

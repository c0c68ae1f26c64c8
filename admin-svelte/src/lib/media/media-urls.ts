// Object URLs of a space's stored files, for <img>/<video> in the step editor
// and the preview. The files need the admin's bearer token, which an <img src>
// cannot send, so each is fetched once and kept as a blob URL: the bytes of an
// id never change (it is their SHA-256), so a URL never goes stale.
import { mediaPath } from './media-upload.ts'

export class MediaUrls {
  readonly #token: () => string | null
  readonly #urls = new Map<string, Promise<string | null>>()

  constructor(token: () => string | null) {
    this.#token = token
  }

  /** The file's object URL, or null when the server cannot give it (missing, refused, offline: asked again next time). */
  url(space: string, id: string): Promise<string | null> {
    const key = `${space}/${id}`
    let url = this.#urls.get(key)
    if (!url) {
      url = this.#fetch(space, id)
      this.#urls.set(key, url)
      void url.then((value) => value === null && this.#urls.delete(key))
    }
    return url
  }

  async #fetch(space: string, id: string): Promise<string | null> {
    const token = this.#token()
    try {
      const response = await fetch(mediaPath(space, id), { headers: token ? { authorization: `Bearer ${token}` } : {} })
      if (!response.ok) return null
      return URL.createObjectURL(await response.blob())
    } catch {
      return null
    }
  }

  destroy(): void {
    for (const url of this.#urls.values()) void url.then((value) => value && URL.revokeObjectURL(value))
    this.#urls.clear()
  }
}

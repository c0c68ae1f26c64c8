// A new version of the admin, as the service worker reports it. The worker
// (vite-plugin-pwa's Workbox, `registerType: 'prompt'`) installs a new
// build in the background and then waits: nothing changes in an open page
// until the user clicks "Reload", so a page is never swapped mid-edit (and
// edits survive the reload anyway: they are in IndexedDB until saved).
import type { RegisterSWOptions } from 'vite-plugin-pwa/types'

/** vite-plugin-pwa's `registerSW` (virtual:pwa-register); tests pass their own. */
export type RegisterServiceWorker = (options: RegisterSWOptions) => (reloadPage?: boolean) => Promise<void>

/** How often an open page asks the server whether there is a new version (besides each page load). */
const UPDATE_CHECK_MS = 60 * 60 * 1000

export class AppUpdateState {
  #waiting = $state(false)
  #dismissed = $state(false)
  #registration: ServiceWorkerRegistration | null = null
  #timer: ReturnType<typeof setInterval> | null = null
  readonly #update: (reloadPage?: boolean) => Promise<void>

  constructor(register: RegisterServiceWorker, options: { checkEveryMs?: number } = {}) {
    this.#update = register({
      immediate: true,
      onNeedRefresh: () => {
        this.#waiting = true
        this.#dismissed = false
      },
      onRegisteredSW: (_url, registration) => {
        if (!registration) return
        this.#registration = registration
        this.#timer = setInterval(() => void this.check(), options.checkEveryMs ?? UPDATE_CHECK_MS)
      },
    })
  }

  /** `available`: a new version is installed and waiting; `shown`: the prompt is up (not put off with "Later"). */
  get current(): { available: boolean; shown: boolean } {
    return { available: this.#waiting, shown: this.#waiting && !this.#dismissed }
  }

  /** Asks the server for a new version now (the browser also does at each page load). */
  async check(): Promise<void> {
    // Offline, or the server down: the next check will do.
    await this.#registration?.update().catch(() => {})
  }

  /** The user chose to: the waiting worker takes over and the page reloads with the new version. */
  reload(): Promise<void> {
    return this.#update(true)
  }

  /** "Later": the prompt goes away; the new version starts with the next page load. */
  dismiss(): void {
    this.#dismissed = true
  }

  destroy(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }
}

// What the bot's events make on screen: a toast per burst, not per event.
// Events arriving within `windowMs` of the first are shown together ("12
// new events"); after a toast, the next comes no sooner than
// `minIntervalMs`, and while the last one is still on screen it is updated
// in place rather than joined by another. Nothing is shown while the
// Activity page is open (it lists them itself) or while the user muted
// notifications, which is remembered per user in localStorage; events in
// those times are not saved up for later.
import type { ToastState } from '../ui/toast-state.svelte.ts'

export interface EventNotificationsOptions {
  toasts: Pick<ToastState, 'show' | 'update' | 'has' | 'dismiss'>
  /** Where the mute switch is kept, per user (e.g. `botsync:notifications-muted:<userId>`). */
  storageKey: string
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>
  /** Events this close to the first of a burst make one toast. */
  windowMs?: number
  /** The least time between two toasts. */
  minIntervalMs?: number
  now?: () => number
}

export class EventNotifications {
  #muted = $state(false)
  #paused = false
  /** Descriptions of the events not shown yet. */
  #pending: string[] = []
  #timer: ReturnType<typeof setTimeout> | null = null
  #lastShownAt = -Infinity
  /** The toast on screen and how many events it counts. */
  #toast: { id: number; count: number } | null = null
  readonly #toasts: EventNotificationsOptions['toasts']
  readonly #storageKey: string
  readonly #storage: EventNotificationsOptions['storage'] | null
  readonly #windowMs: number
  readonly #minIntervalMs: number
  readonly #now: () => number

  constructor(options: EventNotificationsOptions) {
    this.#toasts = options.toasts
    this.#storageKey = options.storageKey
    this.#storage = options.storage ?? (typeof localStorage === 'undefined' ? null : localStorage)
    this.#windowMs = options.windowMs ?? 1500
    this.#minIntervalMs = options.minIntervalMs ?? 5000
    this.#now = options.now ?? Date.now
    try {
      this.#muted = this.#storage?.getItem(this.#storageKey) === '1'
    } catch {
      // Storage refused (a private window's quota): not muted, and the switch still works for this tab.
    }
  }

  /** The user's "Mute notifications" switch. */
  get muted(): boolean {
    return this.#muted
  }

  setMuted(muted: boolean): void {
    this.#muted = muted
    try {
      if (muted) this.#storage?.setItem(this.#storageKey, '1')
      else this.#storage?.removeItem(this.#storageKey)
    } catch {
      // Not remembered across reloads; muted for now all the same.
    }
    if (muted) this.#quiet()
  }

  /** True while the Activity page is open: it shows the events itself. */
  setPaused(paused: boolean): void {
    this.#paused = paused
    if (paused) this.#quiet()
  }

  /** Events that arrived live, each described in one line, oldest first. */
  report(descriptions: readonly string[]): void {
    if (this.#muted || this.#paused || descriptions.length === 0) return
    this.#pending.push(...descriptions)
    if (this.#timer !== null) return
    const now = this.#now()
    const wait = Math.max(this.#windowMs, this.#lastShownAt + this.#minIntervalMs - now)
    this.#timer = setTimeout(() => this.#flush(), wait)
  }

  #flush(): void {
    this.#timer = null
    const pending = this.#pending
    this.#pending = []
    if (this.#muted || this.#paused || pending.length === 0) return
    this.#lastShownAt = this.#now()
    const shown = this.#toast && this.#toasts.has(this.#toast.id) ? this.#toast : null
    const count = (shown?.count ?? 0) + pending.length
    const message = count === 1 ? pending[0] : `${count} new events`
    if (shown && this.#toasts.update(shown.id, message)) shown.count = count
    else this.#toast = { id: this.#toasts.show(message), count }
  }

  /** Drops what waits and takes the events' toast off screen. */
  #quiet(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#pending = []
    if (this.#toast) this.#toasts.dismiss(this.#toast.id)
    this.#toast = null
  }

  destroy(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }
}

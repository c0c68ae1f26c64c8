// Short-lived notices (a new bot event, a refused change), announced to
// screen readers through the toaster's live region.
export type ToastTone = 'info' | 'warning' | 'error'

export interface Toast {
  id: number
  message: string
  tone: ToastTone
}

export class ToastState {
  #items = $state<Toast[]>([])
  readonly #timeoutMs: number
  #nextId = 1
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- timers, never rendered
  readonly #timers = new Map<number, ReturnType<typeof setTimeout>>()

  constructor(timeoutMs = 6000) {
    this.#timeoutMs = timeoutMs
  }

  /** Oldest first, at most four. */
  get items(): readonly Toast[] {
    return this.#items
  }

  show(message: string, tone: ToastTone = 'info'): number {
    const id = this.#nextId++
    // At most four at once: a burst of events should not bury the page.
    const kept = this.#items.slice(-3)
    for (const dropped of this.#items.slice(0, -3)) this.#clearTimer(dropped.id)
    this.#items = [...kept, { id, message, tone }]
    this.#startTimer(id)
    return id
  }

  /** True while the toast is on screen (not dismissed, not timed out). */
  has(id: number): boolean {
    return this.#items.some((toast) => toast.id === id)
  }

  /** Changes a toast still on screen and gives it its full time again; false when it is gone. */
  update(id: number, message: string): boolean {
    if (!this.has(id)) return false
    this.#items = this.#items.map((toast) => (toast.id === id ? { ...toast, message } : toast))
    this.#startTimer(id)
    return true
  }

  dismiss(id: number): void {
    this.#clearTimer(id)
    this.#items = this.#items.filter((toast) => toast.id !== id)
  }

  #startTimer(id: number): void {
    this.#clearTimer(id)
    if (this.#timeoutMs > 0)
      this.#timers.set(
        id,
        setTimeout(() => this.dismiss(id), this.#timeoutMs),
      )
  }

  #clearTimer(id: number): void {
    clearTimeout(this.#timers.get(id))
    this.#timers.delete(id)
  }
}

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
    this.#items = [...this.#items.slice(-3), { id, message, tone }]
    if (this.#timeoutMs > 0) setTimeout(() => this.dismiss(id), this.#timeoutMs)
    return id
  }

  dismiss(id: number): void {
    this.#items = this.#items.filter((toast) => toast.id !== id)
  }
}

// The runes adapter: a Yjs type (observed deeply) as a reactive value.
// `createSubscriber` registers the Yjs observer only while some effect reads
// `current`, and removes it when the last one is gone, so a page that stops
// showing a document stops paying for its updates.
import { createSubscriber } from 'svelte/reactivity'
import type { AnyYType } from '@botsync/shared-docs'

export class YState<T> {
  readonly #read: () => T
  readonly #subscribe: () => void

  /**
   * @param type  the Y type (or types) whose changes (at any depth) change the value
   * @param read  computes the value from the type, e.g. a shared-docs projection
   */
  constructor(type: AnyYType | readonly AnyYType[], read: () => T) {
    this.#read = read
    const types: readonly AnyYType[] = Array.isArray(type) ? type : [type as AnyYType]
    this.#subscribe = createSubscriber((update) => {
      const observer = (): void => update()
      for (const t of types) t.observeDeep(observer)
      return () => {
        for (const t of types) t.unobserveDeep(observer)
      }
    })
  }

  /** The value now; inside an effect or `$derived`, it re-runs on every change. */
  get current(): T {
    this.#subscribe()
    return this.#read()
  }
}

// How many local edits of a document are not yet known to be on the server,
// kept in localStorage so that the count survives a reload made offline (the
// provider's own counter starts at zero on every page load). Scoped per user.

export class PendingEdits {
  readonly #key: string
  readonly #storage: Storage | null

  constructor(userId: string, documentName: string, storage: Storage | null = globalThis.localStorage ?? null) {
    this.#key = `botsync:pending:${userId}:${documentName}`
    this.#storage = storage
  }

  get count(): number {
    const value = Number(this.#storage?.getItem(this.#key) ?? 0)
    return Number.isInteger(value) && value > 0 ? value : 0
  }

  increment(): number {
    const next = this.count + 1
    this.#storage?.setItem(this.#key, String(next))
    return next
  }

  clear(): void {
    this.#storage?.removeItem(this.#key)
  }

  /** Names of this user's documents with edits not yet acknowledged by the server. */
  static documentsWithPendingEdits(userId: string, storage: Storage | null = globalThis.localStorage ?? null): string[] {
    if (!storage) return []
    const prefix = `botsync:pending:${userId}:`
    const names: string[] = []
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i)
      if (key?.startsWith(prefix) && Number(storage.getItem(key)) > 0) names.push(key.slice(prefix.length))
    }
    return names
  }
}

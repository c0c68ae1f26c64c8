import { AsyncLocalStorage } from 'node:async_hooks'
import type { SqlClient } from '../session/pg-session-store.ts'

/**
 * What handling one update changes in the database, collected while the
 * update runs and committed in one transaction together with the inbox's
 * "handled" mark (UpdateInbox.complete). The session store writes here
 * instead of straight to the database whenever a unit is active, so an
 * update's session change and its handled mark commit or vanish together.
 */
export class UnitOfWork {
  private readonly writes: ((tx: SqlClient) => Promise<unknown>)[] = []
  private readonly committed: (() => void)[] = []

  /** A statement for the update's transaction. */
  write(statement: (tx: SqlClient) => Promise<unknown>): void {
    this.writes.push(statement)
  }

  /** Runs after the transaction committed (e.g. refreshing a cache). */
  afterCommit(callback: () => void): void {
    this.committed.push(callback)
  }

  async apply(tx: SqlClient): Promise<void> {
    for (const statement of this.writes) await statement(tx)
  }

  commitDone(): void {
    for (const callback of this.committed) callback()
  }
}

const current = new AsyncLocalStorage<UnitOfWork>()

/** Runs `fn` with `unit` as the active unit of work (seen by everything it awaits). */
export function withUnitOfWork<T>(unit: UnitOfWork, fn: () => Promise<T>): Promise<T> {
  return current.run(unit, fn)
}

export function activeUnitOfWork(): UnitOfWork | undefined {
  return current.getStore()
}

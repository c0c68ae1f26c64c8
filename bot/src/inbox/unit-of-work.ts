import { AsyncLocalStorage } from 'node:async_hooks'
import type { SqlClient } from '../session/pg-session-store.ts'

/**
 * What handling one update changes in the database, collected while the
 * update runs and committed in one transaction together with the inbox's
 * "handled" mark (UpdateInbox.complete). The session store writes here
 * instead of straight to the database whenever a unit is active, so an
 * update's session change and its handled mark commit or vanish together.
 */
/** A session change, kept as data so UpdateInbox.complete can fold it into its own statement. */
export type SessionWrite = { kind: 'upsert'; space: string; key: string; json: string } | { kind: 'delete'; space: string; key: string }

export class UnitOfWork {
  /** Statements for the update's transaction, besides session writes. */
  readonly writes: ((tx: SqlClient) => Promise<unknown>)[] = []
  readonly sessionWrites: SessionWrite[] = []
  private readonly committed: (() => void)[] = []

  /** A statement for the update's transaction. */
  write(statement: (tx: SqlClient) => Promise<unknown>): void {
    this.writes.push(statement)
  }

  /** A session change for the update's transaction. */
  writeSession(write: SessionWrite): void {
    this.sessionWrites.push(write)
  }

  /** Runs after the transaction committed (e.g. refreshing a cache). */
  afterCommit(callback: () => void): void {
    this.committed.push(callback)
  }

  /** Runs every write on `tx` (the transaction of UpdateInbox.complete). */
  async apply(tx: SqlClient): Promise<void> {
    for (const write of this.sessionWrites) {
      if (write.kind === 'upsert') await tx.query(SESSION_UPSERT, [write.space, write.key, write.json])
      else await tx.query(SESSION_DELETE, [write.space, write.key])
    }
    for (const statement of this.writes) await statement(tx)
  }

  commitDone(): void {
    for (const callback of this.committed) callback()
  }
}

export const SESSION_UPSERT = `INSERT INTO bot_sessions (space, key, value, updated_at) VALUES ($1, $2, $3::jsonb, now())
       ON CONFLICT (space, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`
export const SESSION_DELETE = 'DELETE FROM bot_sessions WHERE space = $1 AND key = $2'

const current = new AsyncLocalStorage<UnitOfWork>()

/** Runs `fn` with `unit` as the active unit of work (seen by everything it awaits). */
export function withUnitOfWork<T>(unit: UnitOfWork, fn: () => Promise<T>): Promise<T> {
  return current.run(unit, fn)
}

export function activeUnitOfWork(): UnitOfWork | undefined {
  return current.getStore()
}

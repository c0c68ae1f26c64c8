import * as Y from 'yjs'
import { toBytes, type Queryable } from './database.ts'

type StateVector = Map<number, number>

/**
 * The state vectors of documents as PostgreSQL holds them: whatever any
 * instance has committed (and so may have acknowledged), not what this
 * instance happens to have applied yet. One statement per call.
 *
 * Rows and snapshots never change once written (compaction deletes rows and
 * writes a new snapshot), so each one's contribution is parsed once and
 * cached by row id / snapshot version; a call sends PostgreSQL the ids it
 * knows and gets bytes back only for the rest. Rows quarantined at a load
 * (they do not integrate, every load skips them) are left out, like the
 * loaded document leaves them out.
 */
export class StoredStateVectors {
  private readonly db: Queryable
  /** 'r<id>' (log row) or 's<name> <compacted_at>' (snapshot) → what it adds to its document's vector. */
  private readonly parts = new Map<string, { name: string; part: StateVector }>()

  constructor(db: Queryable) {
    this.db = db
  }

  /** Calls run one after another, so one call's pruning cannot race another's list of known ids. */
  private queue: Promise<unknown> = Promise.resolve()

  of(names: readonly string[]): Promise<Map<string, StateVector>> {
    const run = this.queue.then(
      () => this.read(names),
      () => this.read(names),
    )
    this.queue = run.catch(() => {})
    return run
  }

  private async read(names: readonly string[]): Promise<Map<string, StateVector>> {
    const knownRows: string[] = []
    const knownSnapshots: string[] = []
    for (const key of this.parts.keys()) {
      if (key.startsWith('r')) knownRows.push(key.slice(1))
      else knownSnapshots.push(key.slice(1))
    }
    const rows = await this.db.query<{ name: string; key: string; bytes: unknown }>(
      `SELECT name, 'r' || id::text AS key, CASE WHEN id = ANY($2::int8[]) THEN NULL ELSE update END AS bytes
         FROM document_updates
        WHERE name = ANY($1::text[])
          AND id NOT IN (SELECT original_id FROM quarantined_updates WHERE name = ANY($1::text[]))
       UNION ALL
       SELECT name, 's' || name || ' ' || coalesce(compacted_at::text, '-') AS key,
              CASE WHEN name || ' ' || coalesce(compacted_at::text, '-') = ANY($3::text[]) THEN NULL ELSE snapshot END AS bytes
         FROM documents
        WHERE name = ANY($1::text[]) AND snapshot IS NOT NULL`,
      [names, knownRows, knownSnapshots],
    )
    const vectors = new Map<string, StateVector>(names.map((name) => [name, new Map()]))
    const seen = new Set<string>()
    for (const row of rows) {
      seen.add(row.key)
      let part = this.parts.get(row.key)?.part
      if (!part) {
        // Not cached, so not in the known lists: PostgreSQL sent the bytes.
        part = Y.parseUpdateMeta(toBytes(row.bytes)).to
        this.parts.set(row.key, { name: row.name, part })
      }
      const vector = vectors.get(row.name)!
      for (const [client, clock] of part) if (clock > (vector.get(client) ?? 0)) vector.set(client, clock)
    }
    // Compacted rows and replaced snapshots are gone for good; documents no
    // longer asked about (a deleted scenario) are forgotten: the next call
    // that names one reads it again. The one caller asks about one space.
    for (const key of this.parts.keys()) if (!seen.has(key)) this.parts.delete(key)
    return vectors
  }
}

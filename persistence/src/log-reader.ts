import { toBytes, type Queryable } from './database.ts'

export interface LogPage {
  rows: number
  /** Sum of the rows' update sizes. */
  bytes: number
  /** Highest id in the page (text: bigint), null when the page is empty. */
  last: string | null
  /** The rows packed as unpackLog reads them, null when the page is empty. */
  packed: Uint8Array | null
}

/**
 * Log rows after `afterId`, in id order, at most `limit` of them, packed by
 * PostgreSQL into one bytea (8-byte id, 4-byte length, bytes; see
 * unpackLog). pg parses every result row on the main thread (about 1 µs per
 * row and column), so 100k rows as 100k results cost more event-loop time
 * than the fold itself; one value per page is one native hex decode.
 */
export async function readLogPage(q: Queryable, name: string, afterId: string, limit: number): Promise<LogPage> {
  const [page] = await q.query<{ rows: number; bytes: number; last: string | null; packed: unknown }>(
    `SELECT count(*)::int AS rows, coalesce(sum(octet_length(update)), 0)::float8 AS bytes, max(id)::text AS last,
            string_agg(int8send(id) || int4send(octet_length(update)) || update, ''::bytea ORDER BY id) AS packed
       FROM (SELECT id, update FROM document_updates WHERE name = $1 AND id > $2::bigint ORDER BY id LIMIT $3) page`,
    [name, afterId, limit],
  )
  return { rows: page.rows, bytes: page.bytes, last: page.last, packed: page.packed === null ? null : toBytes(page.packed) }
}

export async function readSnapshot(q: Queryable, name: string): Promise<Uint8Array | null> {
  const rows = await q.query<{ snapshot: unknown }>('SELECT snapshot FROM documents WHERE name = $1 AND snapshot IS NOT NULL', [name])
  return rows[0] ? toBytes(rows[0].snapshot) : null
}

/** The ids of a packed page (compaction deletes exactly these). */
export function packedIds(packed: Uint8Array): number[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength)
  const ids: number[] = []
  for (let at = 0; at < packed.byteLength; at += 12 + view.getUint32(at + 8)) {
    ids.push(view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4))
  }
  return ids
}

export interface QuarantinedRow {
  id: number
  document: string
  problem: string
}

/**
 * Copies a log row into quarantined_updates. True the first time (the caller
 * logs it then, once, whichever instance or load found it), false when it is
 * already there or no longer in the log.
 */
export async function quarantineRow(q: Queryable, name: string, id: number, problem: string): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO quarantined_updates (original_id, name, update, error)
     SELECT id, name, update, $3 FROM document_updates WHERE name = $1 AND id = $2
     ON CONFLICT (original_id) DO NOTHING
     RETURNING original_id`,
    [name, id, problem],
  )
  return rows.length > 0
}

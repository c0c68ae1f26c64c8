import { toBytes, type Queryable } from './database.ts'

export interface LogPage {
  rows: number
  /** Sum of the rows' update sizes. */
  bytes: number
  /** The rows packed as unpackLog reads them. */
  packed: Uint8Array
}

/** One row of the log as PostgreSQL packs it: 8-byte id, 4-byte length, the bytes (see unpackLog). */
const PACKED_ROW = 'int8send(id) || int4send(octet_length(update)) || update'

/**
 * Snapshot and whole log of a document in ONE statement (so a concurrent
 * compaction cannot split them), the log packed by PostgreSQL into bytea
 * pages of at most `pageRows` rows. Why packed: pg parses every result row
 * on the main thread, so 100k rows as 100k results cost more event-loop time
 * than the fold itself; one value per page is one native hex decode.
 *
 * A log of up to `pageRows` rows (nearly every one: compaction keeps logs
 * far shorter) is one aggregate over the rows in index order: no window
 * function, no sort. Measured on a planted 100k-row log (PostgreSQL 15,
 * work_mem 4 MB): 53–71 ms from Node, where the paged statement below took
 * 96–126 ms, its sort by page spilling 5.6 MB to disk. A longer log is read
 * again by the paged statement (the first read's snapshot and rows are
 * dropped, so what is returned still comes from one statement).
 */
export async function readDocument(q: Queryable, name: string, pageRows: number): Promise<{ snapshot: Uint8Array | null; pages: LogPage[] }> {
  const [whole] = await q.query<{ snapshot: unknown; rows: number; bytes: number; packed: unknown }>(
    `SELECT (SELECT snapshot FROM documents WHERE name = $1) AS snapshot, log.*
       FROM (SELECT count(*)::int AS rows, coalesce(sum(octet_length(update)), 0)::float8 AS bytes, string_agg(${PACKED_ROW}, ''::bytea) AS packed
               FROM (SELECT id, update FROM document_updates WHERE name = $1 ORDER BY id LIMIT $2::int + 1) ordered) log`,
    [name, pageRows],
  )
  if (whole.rows <= pageRows) {
    return {
      snapshot: whole.snapshot === null ? null : toBytes(whole.snapshot),
      pages: whole.packed === null ? [] : [{ rows: whole.rows, bytes: whole.bytes, packed: toBytes(whole.packed) }],
    }
  }
  return readPagedDocument(q, name, pageRows)
}

/**
 * readDocument for a log longer than one page. Why one statement and not
 * `id > last LIMIT n` pages: with stale statistics (a log that grew fast)
 * PostgreSQL plans each such page as a bitmap scan of every remaining row
 * plus a sort, which made 1M rows take 16 s to read (20 pages × the rest of
 * the log); numbering the rows once scans the log once.
 *
 * The rows are sorted once, by page and id, and aggregated in that order:
 * with `string_agg(… ORDER BY id)` PostgreSQL 15 sorted every page again
 * inside the aggregate (the plan sorted by page, spilling to disk at the
 * default work_mem, then by id per group). PostgreSQL documents that an
 * aggregate of a sorted subquery usually keeps its order, not that it
 * always does, so the reader does not rely on it (here nor in readDocument):
 * LogRows.unpack puts rows in id order if they are not.
 */
async function readPagedDocument(q: Queryable, name: string, pageRows: number): Promise<{ snapshot: Uint8Array | null; pages: LogPage[] }> {
  const rows = await q.query<{ page: number; rows: number; bytes: number; packed: unknown }>(
    `SELECT -1 AS page, 0 AS rows, 0::float8 AS bytes, snapshot AS packed FROM documents WHERE name = $1 AND snapshot IS NOT NULL
     UNION ALL
     SELECT page, count(*)::int, sum(octet_length(update))::float8, string_agg(${PACKED_ROW}, ''::bytea)
       FROM (SELECT id, update, (row_number() OVER (ORDER BY id) - 1) / $2 AS page FROM document_updates WHERE name = $1 ORDER BY page, id) numbered
      GROUP BY page
     ORDER BY page`,
    [name, pageRows],
  )
  const snapshot = rows[0]?.page === -1 ? toBytes(rows[0].packed) : null
  const pages = rows.filter((row) => row.page !== -1).map((row) => ({ rows: row.rows, bytes: row.bytes, packed: toBytes(row.packed) }))
  return { snapshot, pages }
}

/**
 * readDocument for many documents in one statement: the same snapshot and
 * packed pages, per name. A read of a whole space (a release: 200 scenarios)
 * made one round trip per document, most of its time; this is one. Names
 * with nothing stored come back with no snapshot and no pages.
 */
export async function readDocuments(q: Queryable, names: readonly string[], pageRows: number): Promise<Map<string, { snapshot: Uint8Array | null; pages: LogPage[] }>> {
  const read = new Map<string, { snapshot: Uint8Array | null; pages: LogPage[] }>(names.map((name) => [name, { snapshot: null, pages: [] }]))
  if (names.length === 0) return read
  const rows = await q.query<{ name: string; page: number; rows: number; bytes: number; packed: unknown }>(
    `SELECT name, -1 AS page, 0 AS rows, 0::float8 AS bytes, snapshot AS packed FROM documents WHERE name = ANY($1::text[]) AND snapshot IS NOT NULL
     UNION ALL
     SELECT name, page, count(*)::int, sum(octet_length(update))::float8, string_agg(${PACKED_ROW}, ''::bytea ORDER BY id)
       FROM (SELECT name, id, update, (row_number() OVER (PARTITION BY name ORDER BY id) - 1) / $2 AS page FROM document_updates WHERE name = ANY($1::text[])) numbered
      GROUP BY name, page
     ORDER BY name, page`,
    [[...names], pageRows],
  )
  for (const row of rows) {
    const entry = read.get(row.name)
    if (!entry) continue
    if (row.page === -1) entry.snapshot = toBytes(row.packed)
    else entry.pages.push({ rows: row.rows, bytes: row.bytes, packed: toBytes(row.packed) })
  }
  return read
}

/**
 * The last id of each run of `pageRows` log rows (text: bigint), in one scan:
 * compaction folds one run per transaction, reading it by id range, which
 * stays linear whatever plan PostgreSQL picks (see readDocument).
 */
export async function logPageBounds(q: Queryable, name: string, pageRows: number): Promise<string[]> {
  const rows = await q.query<{ last: string }>(
    `SELECT max(id)::text AS last
       FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $2 AS page FROM document_updates WHERE name = $1) numbered
      GROUP BY page
      ORDER BY page`,
    [name, pageRows],
  )
  return rows.map((row) => row.last)
}

/**
 * Log rows with `afterId < id <= throughId` (no upper bound when null),
 * packed; null when there are none. Aggregated from the rows in index order,
 * as readDocument does: `string_agg(… ORDER BY id)` sorted them again inside
 * the aggregate (a 20k-row compaction step: 11–12 ms in PostgreSQL, 6.5–7 ms
 * without the sort), and compaction runs while appends want the CPU.
 */
export async function readLogRange(q: Queryable, name: string, afterId: string, throughId: string | null): Promise<LogPage | null> {
  const [page] = await q.query<{ rows: number; bytes: number; packed: unknown }>(
    `SELECT count(*)::int AS rows, coalesce(sum(octet_length(update)), 0)::float8 AS bytes, string_agg(${PACKED_ROW}, ''::bytea) AS packed
       FROM (SELECT id, update FROM document_updates
              WHERE name = $1 AND id > $2::bigint AND ($3::bigint IS NULL OR id <= $3::bigint)
              ORDER BY id) ordered`,
    [name, afterId, throughId],
  )
  return page.packed === null ? null : { rows: page.rows, bytes: page.bytes, packed: toBytes(page.packed) }
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

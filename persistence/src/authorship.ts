import type { Queryable } from './database.ts'

/**
 * Who wrote a document's updates, kept across compaction.
 *
 * Every row of `document_updates` carries `author_id`: the admin user whose
 * authenticated connection sent it, NULL for the server's own writes (seed,
 * activity, the public projection; bots are read-only). There is no foreign
 * key to users: a user may be deleted, and the log must keep its rows (and
 * history its "who", as a number the admin may show as "a deleted user").
 *
 * Compaction folds rows into a snapshot that has no authors, so in the same
 * statement that deletes the folded rows it adds their attribution to
 * `document_authorship`: one row per (author, minute in which they wrote),
 * with how many updates and the first and last `created_at` among them. Only
 * rows that integrated count (quarantined ones changed nothing). A document
 * typed in for an hour by two admins leaves at most 120 such rows instead of
 * thousands of log rows, and the append path pays nothing for it: the author
 * is just one more column of the group-commit INSERT.
 *
 * `authorsBetween` answers "who changed this document between A and B" from
 * both: live log rows exactly, folded ones to the minute (a minute that
 * straddles A or B counts whole, its times clamped to the window). That is
 * finer than history needs: checkpoints are minutes apart, and `created_at`
 * (the transaction's start) is itself only as exact as commit order allows.
 */
export const AUTHORSHIP_BUCKET = 'minute'

export interface DocumentAuthor {
  /** users.id as text, or null: the server. */
  authorId: string | null
  /** Updates of this author in the window (folded minutes count whole). */
  updates: number
  /** Milliseconds since the epoch, within the window. */
  firstAt: number
  lastAt: number
}

/**
 * In one compaction transaction: deletes exactly the folded rows `ids` and
 * records their authors (except `rejected`, which went to quarantine).
 */
export async function foldAuthorship(q: Queryable, name: string, ids: number[], rejected: number[]): Promise<void> {
  await q.query(
    `WITH folded AS (
       DELETE FROM document_updates WHERE name = $1 AND id = ANY(string_to_array($2, ',')::bigint[])
       RETURNING id, author_id, created_at
     )
     INSERT INTO document_authorship (name, author_id, minute, updates, first_at, last_at)
     SELECT $1, author_id, date_trunc('${AUTHORSHIP_BUCKET}', created_at), count(*)::int, min(created_at), max(created_at)
       FROM folded
      WHERE NOT (id = ANY(string_to_array($3, ',')::bigint[]))
      GROUP BY author_id, date_trunc('${AUTHORSHIP_BUCKET}', created_at)`,
    [name, ids.join(','), rejected.join(',')],
  )
}

/** Authors of `name`'s updates with `sinceMs <= created_at < untilMs`, earliest first (see the comment above). */
export async function authorsBetween(q: Queryable, name: string, sinceMs: number, untilMs: number): Promise<DocumentAuthor[]> {
  const rows = await q.query<{ author_id: string | null; updates: number; first_at: number; last_at: number }>(
    `WITH bounds AS (SELECT to_timestamp($2::float8 / 1000) AS since, to_timestamp($3::float8 / 1000) AS until)
     SELECT author_id::text, sum(updates)::int AS updates,
            (extract(epoch FROM min(first_at)) * 1000)::float8 AS first_at,
            (extract(epoch FROM max(last_at)) * 1000)::float8 AS last_at
       FROM (
         SELECT u.author_id, count(*) AS updates, min(u.created_at) AS first_at, max(u.created_at) AS last_at
           FROM document_updates u, bounds
          WHERE u.name = $1 AND u.created_at >= bounds.since AND u.created_at < bounds.until
            AND NOT EXISTS (SELECT 1 FROM quarantined_updates q WHERE q.original_id = u.id)
          GROUP BY u.author_id
         UNION ALL
         SELECT a.author_id, a.updates, greatest(a.first_at, bounds.since), least(a.last_at, bounds.until)
           FROM document_authorship a, bounds
          WHERE a.name = $1 AND a.last_at >= bounds.since AND a.first_at < bounds.until
       ) parts
      GROUP BY author_id
      ORDER BY min(first_at), author_id`,
    [name, sinceMs, untilMs],
  )
  return rows.map((row) => ({ authorId: row.author_id, updates: Number(row.updates), firstAt: Number(row.first_at), lastAt: Number(row.last_at) }))
}

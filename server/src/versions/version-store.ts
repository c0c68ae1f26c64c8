import type { Database, Queryable } from '@botsync/persistence'
import type { VersionKind, VersionSummary } from '@botsync/shared-docs'
import { stateHash } from './state-projections.ts'

/** One content document of a version: its kind within the space ('settings', 'scenario/<id>', …) and its encoded Yjs state. */
export interface VersionDocument {
  kind: string
  state: Uint8Array
  /** sha256 (hex) of `state`, when the reader computed it already. */
  stateHash?: string
  /** sha256 of Y.encodeSnapshot(Y.snapshot(doc)): equal when the document holds the same items and deletions. */
  snapshotHash: Uint8Array
}

interface VersionRow {
  id: string
  kind: VersionKind
  number: number
  author_id: string | null
  author_name: string | null
  created_at: Date
  note: string | null
}

const SELECT_VERSIONS = `
  SELECT v.id::text AS id, v.kind, v.number, v.author_id::text AS author_id, u.name AS author_name, v.created_at, v.note
    FROM versions v LEFT JOIN users u ON u.id = v.author_id`

/**
 * The versions tables (migration 10): a version row per release or
 * checkpoint, a row per content document naming its state, and the states
 * themselves stored once per space (keyed by sha256), so a release that
 * changed one scenario stores one new state, not the whole space again.
 */
export class VersionStore {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  /**
   * Stores a new version of the space with the next number of its kind. The
   * space's row is locked first, so two instances publishing at once take
   * turns and get consecutive numbers (never the same one).
   *
   * A checkpoint (`unlessCheckpointWithinMs`) is not stored when one was
   * taken within that time, or when its documents are those of the latest
   * version: both are decided under the lock, so a release published while
   * the checkpoint's read was under way is the version it is compared with.
   */
  async insert(
    space: string,
    kind: VersionKind,
    options: { authorId: string | null; note: string | null; documents: readonly VersionDocument[]; unlessCheckpointWithinMs?: number },
  ): Promise<VersionSummary | null> {
    const id = await this.db.transaction(async (tx) => {
      await tx.query('SELECT id FROM spaces WHERE id = $1 FOR UPDATE', [space])
      if (options.unlessCheckpointWithinMs !== undefined) {
        const recent = await tx.query(`SELECT 1 FROM versions WHERE space = $1 AND kind = 'checkpoint' AND created_at > now() - make_interval(secs => $2::float8 / 1000) LIMIT 1`, [
          space,
          options.unlessCheckpointWithinMs,
        ])
        if (recent.length > 0) return null
        if (sameDocuments(await latestSnapshotHashes(tx, space), options.documents)) return null
      }
      const [row] = await tx.query<{ id: string }>(
        `INSERT INTO versions (space, kind, number, author_id, note)
         VALUES ($1, $2, (SELECT coalesce(max(number), 0) + 1 FROM versions WHERE space = $1 AND kind = $2), $3, $4)
         RETURNING id::text AS id`,
        [space, kind, options.authorId, options.note],
      )
      await storeDocuments(tx, space, row.id, options.documents)
      return row.id
    })
    if (id === null) return null
    const summary = await this.get(space, id)
    if (!summary) throw new Error(`version ${id} vanished after it was stored`)
    return summary
  }

  /** Newest first. */
  async list(space: string): Promise<VersionSummary[]> {
    const rows = await this.db.query<VersionRow>(`${SELECT_VERSIONS} WHERE v.space = $1 ORDER BY v.created_at DESC, v.id DESC`, [space])
    return rows.map(summary)
  }

  /** A version of this space, or null (an id of another space is null too). */
  async get(space: string, id: string): Promise<VersionSummary | null> {
    if (!/^[1-9][0-9]{0,17}$/.test(id)) return null
    const [row] = await this.db.query<VersionRow>(`${SELECT_VERSIONS} WHERE v.space = $1 AND v.id = $2`, [space, id])
    return row ? summary(row) : null
  }

  async latestRelease(space: string): Promise<VersionSummary | null> {
    const [row] = await this.db.query<VersionRow>(`${SELECT_VERSIONS} WHERE v.space = $1 AND v.kind = 'release' ORDER BY v.number DESC LIMIT 1`, [space])
    return row ? summary(row) : null
  }

  /** The version's documents with their states. */
  /** The version's documents by kind, and the sha256 (hex) of each one's state: enough to tell which states a cache already holds. */
  async documentHashes(versionId: string): Promise<Array<{ kind: string; hash: string }>> {
    return this.db.query<{ kind: string; hash: string }>(`SELECT kind, encode(state_hash, 'hex') AS hash FROM version_documents WHERE version_id = $1`, [versionId])
  }

  /** States by their sha256 (hex). */
  async states(space: string, hashes: readonly string[]): Promise<Map<string, Uint8Array>> {
    if (hashes.length === 0) return new Map()
    const rows = await this.db.query<{ hash: string; state: Uint8Array }>(
      `SELECT encode(hash, 'hex') AS hash, state FROM version_states WHERE space = $1 AND hash IN (SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h)`,
      [space, [...hashes]],
    )
    return new Map(rows.map((row) => [row.hash, new Uint8Array(row.state)]))
  }

  async documents(versionId: string): Promise<Array<{ kind: string; state: Uint8Array }>> {
    const rows = await this.db.query<{ kind: string; state: Uint8Array }>(
      `SELECT d.kind, s.state FROM version_documents d
         JOIN versions v ON v.id = d.version_id
         JOIN version_states s ON s.space = v.space AND s.hash = d.state_hash
        WHERE d.version_id = $1`,
      [versionId],
    )
    return rows.map((row) => ({ kind: row.kind, state: new Uint8Array(row.state) }))
  }
}

/**
 * A version's documents in three statements, whatever their number (a
 * statement per document made a 200-scenario release spend most of its time
 * in round trips): which states the space already has, the new ones, and the
 * version's rows. Bytes travel as hex text arrays, which both drivers
 * (node-postgres, PGlite) pass the same way.
 */
/** The latest version's Y.snapshot hash (hex) per document kind, or null when the space has no version. */
async function latestSnapshotHashes(q: Queryable, space: string): Promise<Map<string, string> | null> {
  const rows = await q.query<{ kind: string; hash: string }>(
    `SELECT d.kind, encode(d.snapshot_hash, 'hex') AS hash FROM version_documents d
      WHERE d.version_id = (SELECT id FROM versions WHERE space = $1 ORDER BY created_at DESC, id DESC LIMIT 1)`,
    [space],
  )
  return rows.length === 0 ? null : new Map(rows.map((row) => [row.kind, row.hash]))
}

/** The documents hold the same items and deletions as a version with these snapshot hashes (null: no version). */
function sameDocuments(latest: Map<string, string> | null, documents: readonly VersionDocument[]): boolean {
  return latest !== null && latest.size === documents.length && documents.every((d) => latest.get(d.kind) === Buffer.from(d.snapshotHash).toString('hex'))
}

async function storeDocuments(tx: Queryable, space: string, versionId: string, documents: readonly VersionDocument[]): Promise<void> {
  if (documents.length === 0) return
  const hashes = documents.map((document) => document.stateHash ?? stateHash(document.state))
  const known = new Set(
    (
      await tx.query<{ hash: string }>(
        `SELECT encode(hash, 'hex') AS hash FROM version_states WHERE space = $1 AND hash IN (SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h)`,
        [space, hashes],
      )
    ).map((row) => row.hash),
  )
  const fresh = new Map<string, Uint8Array>()
  documents.forEach((document, i) => {
    if (!known.has(hashes[i])) fresh.set(hashes[i], document.state)
  })
  if (fresh.size > 0) {
    await tx.query(
      `INSERT INTO version_states (space, hash, state) SELECT $1, decode(h, 'hex'), decode(s, 'hex') FROM unnest($2::text[], $3::text[]) AS t(h, s) ON CONFLICT DO NOTHING`,
      [space, [...fresh.keys()], [...fresh.values()].map((state) => Buffer.from(state).toString('hex'))],
    )
  }
  await tx.query(
    `INSERT INTO version_documents (version_id, kind, state_hash, snapshot_hash)
     SELECT $1, k, decode(h, 'hex'), decode(sn, 'hex') FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, h, sn)`,
    [versionId, documents.map((document) => document.kind), hashes, documents.map((document) => Buffer.from(document.snapshotHash).toString('hex'))],
  )
}

function summary(row: VersionRow): VersionSummary {
  return {
    id: row.id,
    kind: row.kind,
    number: row.number,
    author: row.author_id === null ? null : { id: row.author_id, name: row.author_name ?? 'A deleted user' },
    createdAt: new Date(row.created_at).toISOString(),
    note: row.note,
  }
}

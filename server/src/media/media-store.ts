import { toBytes, type Database } from '@botsync/persistence'
import { isMediaKind, type MediaKind } from '@botsync/shared-docs'

/** A stored file's facts, without its bytes. */
export interface StoredMedia {
  /** The sha256 of the bytes, lowercase hex (the id documents reference). */
  id: string
  space: string
  mime: string
  kind: MediaKind
  bytes: number
  width?: number
  height?: number
  duration?: number
  name: string
  uploadedBy: string | null
  createdAt: number
}

export type NewMedia = Omit<StoredMedia, 'createdAt'> & { content: Uint8Array }

interface MediaRow {
  sha256: Uint8Array
  space: string
  mime: string
  kind: string
  byte_size: string | number
  width: number | null
  height: number | null
  duration: number | null
  name: string
  uploaded_by: string | null
  created_at: Date
}

const COLUMNS = 'sha256, space, mime, kind, byte_size, width, height, duration, name, uploaded_by::text AS uploaded_by, created_at'

/**
 * The media_files table (migration 11): each space's uploads, keyed by the
 * sha256 of their bytes. Content-addressed, so putting the same bytes again
 * stores nothing and answers the row already there (its first name and
 * uploader). Reads of a part of a file (HTTP Range) ask PostgreSQL for just
 * that part, so seeking in a 50 MB video does not move 50 MB each time.
 */
export class MediaStore {
  private readonly db: Database

  constructor(db: Database) {
    this.db = db
  }

  /** Stores the file unless the space has these bytes already; the stored row either way, and whether this call stored it. */
  async put(file: NewMedia): Promise<{ media: StoredMedia; created: boolean }> {
    const inserted = await this.db.query<MediaRow>(
      `INSERT INTO media_files (space, sha256, mime, kind, byte_size, width, height, duration, name, uploaded_by, bytes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (space, sha256) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        file.space,
        Buffer.from(file.id, 'hex'),
        file.mime,
        file.kind,
        file.bytes,
        file.width ?? null,
        file.height ?? null,
        file.duration ?? null,
        file.name,
        file.uploadedBy,
        file.content,
      ],
    )
    if (inserted[0]) return { media: toMedia(inserted[0]), created: true }
    const existing = await this.get(file.space, file.id)
    // Only a concurrent purge of the space could remove it between the two statements.
    if (!existing) throw new Error(`media ${file.id} of space ${file.space} vanished while it was being stored`)
    return { media: existing, created: false }
  }

  async get(space: string, id: string): Promise<StoredMedia | null> {
    const rows = await this.db.query<MediaRow>(`SELECT ${COLUMNS} FROM media_files WHERE space = $1 AND sha256 = $2`, [space, Buffer.from(id, 'hex')])
    return rows[0] ? toMedia(rows[0]) : null
  }

  /** The space's files, newest first. */
  async list(space: string): Promise<StoredMedia[]> {
    const rows = await this.db.query<MediaRow>(`SELECT ${COLUMNS} FROM media_files WHERE space = $1 ORDER BY created_at DESC, sha256`, [space])
    return rows.map(toMedia)
  }

  /** `length` bytes from `start` (0-based) of the file, or null if there is no such file. */
  async read(space: string, id: string, start: number, length: number): Promise<Uint8Array | null> {
    const rows = await this.db.query<{ part: Uint8Array }>('SELECT substring(bytes FROM $3 FOR $4) AS part FROM media_files WHERE space = $1 AND sha256 = $2', [
      space,
      Buffer.from(id, 'hex'),
      start + 1,
      length,
    ])
    if (!rows[0]) return null
    // A plain view either way (pg answers a Buffer, PGlite a Uint8Array).
    const part = toBytes(rows[0].part)
    return new Uint8Array(part.buffer, part.byteOffset, part.byteLength)
  }

  /** How many files the space holds (tests and diagnostics). */
  async count(space: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM media_files WHERE space = $1', [space])
    return row.n
  }
}

function toMedia(row: MediaRow): StoredMedia {
  if (!isMediaKind(row.kind)) throw new Error(`media_files holds an unknown kind ${row.kind}`)
  return {
    id: Buffer.from(toBytes(row.sha256)).toString('hex'),
    space: row.space,
    mime: row.mime,
    kind: row.kind,
    bytes: Number(row.byte_size),
    ...(row.width !== null && row.height !== null ? { width: row.width, height: row.height } : {}),
    ...(row.duration !== null ? { duration: row.duration } : {}),
    name: row.name,
    uploadedBy: row.uploaded_by,
    createdAt: row.created_at.getTime(),
  }
}

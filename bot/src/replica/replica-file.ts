import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** What the file holds: every replicated document as one Yjs update. */
export interface ReplicaSnapshot {
  space: string
  savedAt: string
  /** Document name → Y.encodeStateAsUpdate, base64. */
  documents: Record<string, string>
}

const FORMAT = 1

/**
 * The replica's local copy on disk, read at start so the bot can answer
 * while the server is unreachable. Written to a temporary file and renamed
 * over the old one, so a crash mid-write leaves the previous copy intact.
 */
export class ReplicaFile {
  readonly path: string

  constructor(path: string) {
    this.path = path
  }

  /** The saved documents of `space`; empty when there is no file yet. Throws on an unreadable file. */
  async load(space: string): Promise<Map<string, Uint8Array>> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
      throw error
    }
    const parsed = JSON.parse(text) as { format?: unknown; space?: unknown; documents?: unknown }
    if (parsed.format !== FORMAT || typeof parsed.documents !== 'object' || parsed.documents === null) {
      throw new Error(`${this.path} is not a botsync replica file (format ${FORMAT})`)
    }
    // A file left by a bot of another space holds nothing this one may show.
    if (parsed.space !== space) return new Map()
    const documents = new Map<string, Uint8Array>()
    for (const [name, value] of Object.entries(parsed.documents as Record<string, unknown>)) {
      if (typeof value === 'string') documents.set(name, new Uint8Array(Buffer.from(value, 'base64')))
    }
    return documents
  }

  /** Deletes the file (no error when there is none). */
  async remove(): Promise<void> {
    await rm(this.path, { force: true })
  }

  async save(space: string, documents: Map<string, Uint8Array>): Promise<void> {
    const snapshot: ReplicaSnapshot & { format: number } = {
      format: FORMAT,
      space,
      savedAt: new Date().toISOString(),
      documents: Object.fromEntries([...documents].map(([name, state]) => [name, Buffer.from(state).toString('base64')])),
    }
    await mkdir(dirname(this.path), { recursive: true })
    const temporary = `${this.path}.${process.pid}.tmp`
    try {
      // No fsync: the file is a copy of what the server holds. A file a power
      // cut damaged is reported by load() and the content comes from the
      // server, while syncing every save would compete with the database's
      // own commits for the disk.
      await writeFile(temporary, JSON.stringify(snapshot))
      await rename(temporary, this.path)
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {})
      throw error
    }
  }
}

import type { Database, DocumentStore } from '@botsync/persistence'
import { diffSpaces, type AttributedChange, type SpaceJson, type VersionAuthor, type VersionSummary } from '@botsync/shared-docs'
import { StateProjections } from './state-projections.ts'
import type { VersionStore } from './version-store.ts'

/**
 * Version projections kept in memory. Each is assembled from StateProjections'
 * shared pieces, so one costs its own references (a few KB), not a copy of
 * the space (about 1 MB for 200 × 10).
 */
const CACHED_PROJECTIONS = 256
/**
 * The change list between two versions, or a version and the drafts: the
 * entity changes come from shared-docs' diffSpaces over the two
 * projections; each names the people whose stored updates changed its
 * document between the two versions' times (document_updates.author_id and,
 * for compacted rows, document_authorship). Attribution is per document: a
 * scenario's change names whoever edited that scenario in the window; the
 * server's own writes (author NULL) name nobody.
 */
export class VersionChanges {
  private readonly db: Database
  private readonly store: Pick<DocumentStore, 'authorsBetween'>
  private readonly versions: VersionStore
  private readonly drafts: (space: string) => Promise<SpaceJson>
  /** Projections of versions by id: a version never changes, so reading and projecting it once is enough (the History page asks for the same few again and again). */
  private readonly projections = new Map<string, SpaceJson>()
  private readonly states: StateProjections

  constructor(deps: {
    db: Database
    store: Pick<DocumentStore, 'authorsBetween'>
    versions: VersionStore
    drafts: (space: string) => Promise<SpaceJson>
    /** Shared with the publisher, which projects the states it reads the same way. */
    states?: StateProjections
  }) {
    this.states = deps.states ?? new StateProjections()
    this.db = deps.db
    this.store = deps.store
    this.versions = deps.versions
    this.drafts = deps.drafts
  }

  async between(space: string, from: VersionSummary, to: VersionSummary | null): Promise<AttributedChange[]> {
    const [before, after] = await Promise.all([this.projectionOf(space, from), to ? this.projectionOf(space, to) : this.drafts(space)])
    const changes = diffSpaces(before, after)
    const times = [Date.parse(from.createdAt), to ? Date.parse(to.createdAt) : Date.now() + 1]
    const [since, until] = [Math.min(...times), Math.max(...times)]
    const documents = [...new Set(changes.map((change) => change.document))]
    const authorIds = new Map<string, string[]>()
    await Promise.all(
      documents.map(async (document) => {
        const authors = await this.store.authorsBetween(`${space}/${document}`, since, until)
        authorIds.set(
          document,
          authors.map((author) => author.authorId).filter((id): id is string => id !== null),
        )
      }),
    )
    const names = await this.names([...new Set([...authorIds.values()].flat())])
    return changes.map((change) => ({ ...change, authors: (authorIds.get(change.document) ?? []).map((id) => names.get(id) ?? { id, name: 'A deleted user' }) }))
  }

  /** A version's content is projected where it is made (a publish, a checkpoint): the History page's first compare needs no read. */
  remember(versionId: string, projection: SpaceJson): void {
    this.projections.set(versionId, projection)
    if (this.projections.size > CACHED_PROJECTIONS) this.projections.delete(this.projections.keys().next().value!)
  }

  async projectionOf(space: string, version: Pick<VersionSummary, 'id'>): Promise<SpaceJson> {
    const cached = this.projections.get(version.id)
    if (cached) {
      // Most recently used last, so the oldest is dropped first.
      this.projections.delete(version.id)
      this.projections.set(version.id, cached)
      return cached
    }
    const projection = await this.assemble(space, version.id)
    this.remember(version.id, projection)
    return projection
  }

  /** A version not in memory: its documents' state hashes, and only the states no cached version had. */
  private async assemble(space: string, versionId: string): Promise<SpaceJson> {
    const documents = await this.versions.documentHashes(versionId)
    const states = await this.versions.states(space, this.states.missing(documents))
    return this.states.assemble(documents, (hash) => states.get(hash))
  }

  private async names(ids: string[]): Promise<Map<string, VersionAuthor>> {
    if (ids.length === 0) return new Map()
    const rows = await this.db.query<{ id: string; name: string }>('SELECT id::text AS id, name FROM users WHERE id = ANY($1::bigint[])', [ids])
    return new Map(rows.map((row) => [row.id, { id: row.id, name: row.name }]))
  }
}

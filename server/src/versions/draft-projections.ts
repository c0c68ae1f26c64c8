import type { Database, DocumentStore } from '@botsync/persistence'
import { isValidId, type SpaceJson } from '@botsync/shared-docs'
import { EMPTY_STATE, MEDIA_PIECE, stateHash, StateProjections } from './state-projections.ts'

/** A document's place in the store: its last log row and its last compaction. Content can only change when one of them does. */
type Stamp = string

interface CachedPart {
  stamp: Stamp
  value: unknown
}

/** Spaces whose drafts' projections are kept (a 200 × 10 space projects to about 1 MB). */
const CACHED_SPACES = 32

/**
 * The drafts of a space, projected, for the change list against the drafts
 * and the header's "N unpublished changes" (polled by every admin with the
 * space open). Reading and projecting a 200-scenario space costs a few
 * hundred milliseconds; most polls find one or two documents changed. So
 * each document's projection is kept with a stamp from the store (its
 * newest log row id and its compaction time, one statement for the whole
 * space), and only documents whose stamp moved are read again. The stamp
 * comes from PostgreSQL, not from this instance's memory, so edits made on
 * another instance count too.
 *
 * Not a consistent point in time like a release's read: a change list is
 * shown, not stored, and the next poll catches up.
 */
export class DraftProjections {
  private readonly db: Database
  private readonly store: Pick<DocumentStore, 'readConsistent'>
  private readonly spaces = new Map<string, Map<string, CachedPart>>()

  private readonly states: StateProjections

  constructor(deps: { db: Database; store: Pick<DocumentStore, 'readConsistent'>; states?: StateProjections }) {
    this.db = deps.db
    this.store = deps.store
    // Shared with the versions: right after a publish the drafts are the release's states, already decoded.
    this.states = deps.states ?? new StateProjections()
  }

  async of(space: string): Promise<SpaceJson> {
    let parts = this.spaces.get(space)
    if (parts) this.spaces.delete(space)
    parts ??= new Map()
    this.spaces.set(space, parts)
    if (this.spaces.size > CACHED_SPACES) this.spaces.delete(this.spaces.keys().next().value!)

    const base = ['settings', 'buttons', 'scenarios']
    await this.refresh(space, parts, base)
    const ids = Object.keys(parts.get('scenarios')!.value as object).filter(isValidId)
    const scenarioKinds = ids.map((id) => `scenario/${id}`)
    await this.refresh(space, parts, scenarioKinds)
    // Scenarios that left the index leave the cache.
    const wanted = new Set([...base, MEDIA_PIECE, ...scenarioKinds])
    for (const kind of parts.keys()) if (!wanted.has(kind)) parts.delete(kind)

    const scenarioDocs: SpaceJson['scenarioDocs'] = {}
    for (const id of ids) scenarioDocs[id] = parts.get(`scenario/${id}`)!.value as SpaceJson['scenarioDocs'][string]
    const media = (parts.get(MEDIA_PIECE)?.value ?? {}) as NonNullable<SpaceJson['media']>
    return {
      settings: parts.get('settings')!.value as SpaceJson['settings'],
      buttons: parts.get('buttons')!.value as SpaceJson['buttons'],
      scenarios: parts.get('scenarios')!.value as SpaceJson['scenarios'],
      scenarioDocs,
      ...(Object.keys(media).length > 0 ? { media } : {}),
    }
  }

  private async refresh(space: string, parts: Map<string, CachedPart>, kinds: string[]): Promise<void> {
    if (kinds.length === 0) return
    const names = kinds.map((kind) => `${space}/${kind}`)
    const stamps = await this.stamps(names)
    const stale = kinds.filter((kind, i) => parts.get(kind)?.stamp !== stamps[i])
    if (stale.length === 0) return
    const states = await this.store.readConsistent(stale.map((kind) => `${space}/${kind}`))
    for (const kind of stale) {
      const state = states.get(`${space}/${kind}`) ?? EMPTY_STATE
      const hash = stateHash(state)
      parts.set(kind, { stamp: stamps[kinds.indexOf(kind)], value: this.states.projectionOf({ kind, hash }, state) })
      // The media library lives in the settings document: projected from the same state.
      if (kind === 'settings') parts.set(MEDIA_PIECE, { stamp: stamps[kinds.indexOf(kind)], value: this.states.projectionOf({ kind: MEDIA_PIECE, hash }, state) })
    }
  }

  /** One statement for every document: the newest log row id and the last compaction. */
  private async stamps(names: string[]): Promise<Stamp[]> {
    const rows = await this.db.query<{ name: string; stamp: string }>(
      `SELECT n.name,
              coalesce((SELECT max(u.id) FROM document_updates u WHERE u.name = n.name)::text, '-') || '/' ||
              coalesce((SELECT d.compacted_at::text FROM documents d WHERE d.name = n.name), '-') AS stamp
         FROM unnest($1::text[]) AS n(name)`,
      [names],
    )
    const byName = new Map(rows.map((row) => [row.name, row.stamp]))
    return names.map((name) => byName.get(name) ?? '-/-')
  }
}

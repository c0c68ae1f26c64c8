import { deflateRawSync } from 'node:zlib'
import type { DocumentStore } from '@botsync/persistence'
import {
  countChanges,
  docName,
  getPublishMode,
  isValidId,
  projectScenarios,
  projectSpace,
  putRelease,
  encodeRelease,
  setPublishMode,
  type PublishMode,
  type PublishStatus,
  type SpaceDocs,
  type SpaceJson,
  type VersionSummary,
  scratchDoc,
} from '@botsync/shared-docs'
import * as Y from 'yjs'
import type { Logger } from '../logger.ts'
import type { ServerWriter } from '../server-writer.ts'
import { EMPTY_STATE, stateHash, type StateProjections } from './state-projections.ts'
import type { VersionDocument, VersionStore } from './version-store.ts'

/** What the publisher needs of VersionChanges' cache of version projections. */
export interface VersionProjectionCache {
  remember(versionId: string, projection: SpaceJson): void
  projectionOf(space: string, version: Pick<VersionSummary, 'id'>): Promise<SpaceJson>
}

/** A space's content read at one point: its documents by kind and their Y.Docs. */
interface SpaceAtOnePoint {
  documents: VersionDocument[]
  /** Their projection (projectSpace's shape). */
  content: SpaceJson
}

/** How often a consistent read retries when the index named a scenario the read did not include (added meanwhile). */
const READ_ATTEMPTS = 3

/**
 * Publishing a release, and the publish mode. A release is every content
 * document of the space (settings, buttons, the index and every scenario the
 * index lists) read from PostgreSQL at one point (DocumentStore.readConsistent:
 * everything committed before it, nothing after), stored as version N
 * (VersionStore.insert numbers it under the space's row lock), then written
 * as one value into `<space>/published` through the ServerWriter, so the bot
 * (and every instance) receives the whole release in one update.
 */
export class ReleasePublisher {
  private readonly store: Pick<DocumentStore, 'readConsistent'>
  private readonly versions: VersionStore
  private readonly writer: Pick<ServerWriter, 'change' | 'read'>
  private readonly log: Logger
  private readonly projections: VersionProjectionCache
  private readonly drafts: (space: string) => Promise<SpaceJson>
  private readonly states: StateProjections

  constructor(deps: {
    store: Pick<DocumentStore, 'readConsistent'>
    versions: VersionStore
    writer: Pick<ServerWriter, 'change' | 'read'>
    log: Logger
    /** Versions' projections (VersionChanges): a new version's goes in, the status reads the release's. */
    projections: VersionProjectionCache
    /** The drafts, projected (DraftProjections). */
    drafts: (space: string) => Promise<SpaceJson>
    /** Decoded states by hash, shared with VersionChanges. */
    states: StateProjections
  }) {
    this.states = deps.states
    this.store = deps.store
    this.versions = deps.versions
    this.writer = deps.writer
    this.log = deps.log
    this.projections = deps.projections
    this.drafts = deps.drafts
  }

  async publish(space: string, authorId: string | null, note: string | null): Promise<VersionSummary> {
    const { documents, content } = await this.readSpace(space)
    const release = await this.versions.insert(space, 'release', { authorId, note, documents })
    if (!release) throw new Error('a release is never skipped')
    this.projections.remember(release.id, content)
    const published = { number: release.number, versionId: release.id, createdAt: release.createdAt, content }
    const encoded = encodeRelease(published, (bytes) => deflateRawSync(bytes))
    await this.writer.change(docName.published(space), (doc) => putRelease(doc, published, encoded))
    this.log.info({ event: 'release-published', space, release: release.number, user: authorId, documents: documents.length })
    return release
  }

  /**
   * A checkpoint of the drafts, unless every content document equals the
   * latest version's (same Y.snapshot: the same items and deletions) or a
   * checkpoint of the space is younger than `withinMs`. Null when none was taken.
   */
  async checkpoint(space: string, withinMs: number): Promise<VersionSummary | null> {
    const { documents, content } = await this.readSpace(space)
    // Skipped when a checkpoint is recent or nothing changed since the latest version (decided in the insert, under the space's lock).
    const checkpoint = await this.versions.insert(space, 'checkpoint', { authorId: null, note: null, documents, unlessCheckpointWithinMs: withinMs })
    if (checkpoint) {
      this.projections.remember(checkpoint.id, content)
      this.log.info({ event: 'checkpoint-taken', space, checkpoint: checkpoint.number, documents: documents.length })
    }
    return checkpoint
  }

  /** Review mode needs a release to answer from: the first switch to review publishes one. */
  async setMode(space: string, mode: PublishMode, authorId: string | null): Promise<PublishStatus> {
    if (mode === 'review' && !(await this.versions.latestRelease(space))) await this.publish(space, authorId, 'Review mode turned on')
    await this.writer.change(docName.published(space), (doc) => setPublishMode(doc, mode))
    this.log.info({ event: 'publish-mode-set', space, mode, user: authorId })
    return this.status(space)
  }

  /** The mode, the current release and how many entity changes the drafts hold beyond it (all of them before the first release). */
  async status(space: string): Promise<PublishStatus> {
    const release = await this.versions.latestRelease(space)
    const [drafts, before] = await Promise.all([this.drafts(space), release ? this.projections.projectionOf(space, release) : projectSpace(emptyDocs())])
    return { mode: await this.mode(space), release, unpublished: countChanges(before, drafts) }
  }

  /** The publish mode, from `<space>/published` (no read of the drafts). */
  async mode(space: string): Promise<PublishMode> {
    const published = scratchDoc()
    const state = await this.writer.read(docName.published(space))
    if (state) Y.applyUpdate(published, state)
    return getPublishMode(published)
  }

  /** The index first, then the whole space in one consistent read; again if the index named a scenario added in between. */
  private async readSpace(space: string): Promise<SpaceAtOnePoint> {
    // Start from the index as this instance holds it: usually the consistent read then needs one pass.
    let scenarioIds = await this.knownScenarioIds(space)
    for (let attempt = 1; ; attempt++) {
      const kinds = ['settings', 'buttons', 'scenarios', ...scenarioIds.map((id) => `scenario/${id}`)]
      const states = await this.store.readConsistent(kinds.map((kind) => `${space}/${kind}`))
      // Each state is decoded once ever (StateProjections): a publish decodes only the documents that changed.
      const read = kinds.map((kind) => {
        const state = states.get(`${space}/${kind}`) ?? EMPTY_STATE
        const hashed = { kind, hash: stateHash(state) }
        return { hashed, document: { kind, state, stateHash: hashed.hash, snapshotHash: this.states.snapshotHash(hashed, state) } }
      })
      const byHash = new Map(read.map((r) => [r.hashed.hash, r.document.state]))
      const all = this.states.assemble(
        read.map((r) => r.hashed),
        (hash) => byHash.get(hash),
      )
      const listed = Object.keys(all.scenarios).filter(isValidId)
      const missing = listed.filter((id) => !scenarioIds.includes(id))
      if (missing.length === 0 || attempt === READ_ATTEMPTS) {
        if (missing.length > 0) this.log.warn({ event: 'release-read-incomplete', space, missing }, 'scenarios added while the release was read have no content in it')
        // Scenarios the index no longer lists are not part of the space.
        const inSpace = (kind: string): boolean => !kind.startsWith('scenario/') || listed.includes(kind.slice('scenario/'.length))
        const content: SpaceJson = { ...all, scenarioDocs: Object.fromEntries(Object.entries(all.scenarioDocs).filter(([id]) => listed.includes(id))) }
        return { documents: read.map((r) => r.document).filter((d) => inSpace(d.kind)), content }
      }
      scenarioIds = listed
    }
  }

  private async knownScenarioIds(space: string): Promise<string[]> {
    const index = scratchDoc()
    const state = await this.writer.read(docName.scenarios(space))
    if (state) Y.applyUpdate(index, state)
    return Object.keys(projectScenarios(index)).filter(isValidId)
  }
}

function emptyDocs(): SpaceDocs {
  return { settings: scratchDoc(), buttons: scratchDoc(), scenarios: scratchDoc(), scenarioDocs: new Map() }
}

/** A version's documents (by kind) as the projections read them. */
export function docsOf(documents: ReadonlyArray<{ kind: string; state: Uint8Array }>): SpaceDocs {
  const docs = emptyDocs()
  for (const { kind, state } of documents) {
    const doc = kind === 'settings' ? docs.settings : kind === 'buttons' ? docs.buttons : kind === 'scenarios' ? docs.scenarios : scratchDoc()
    Y.applyUpdate(doc, state)
    if (kind.startsWith('scenario/')) docs.scenarioDocs.set(kind.slice('scenario/'.length), doc)
  }
  return docs
}

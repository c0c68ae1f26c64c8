import type { Hocuspocus } from '@hocuspocus/server'
import type { DocumentStore } from '@botsync/persistence'
import {
  buildPublicContent,
  docName,
  getCurrentRelease,
  getPublishMode,
  projectButtons,
  projectScenario,
  projectScenarios,
  projectSettings,
  publicScenarioIds,
  writePublicContent,
  type ScenarioJson,
} from '@botsync/shared-docs'
import * as Y from 'yjs'
import type { Logger } from '../logger.ts'
import { STORED_ORIGIN } from '../origins.ts'
import { commitFirst } from '../writes/commit-first.ts'

type DirectConnection = Awaited<ReturnType<Hocuspocus['openDirectConnection']>>

/**
 * Keeps one space's `<space>/public` document equal to the projection of its
 * public content, while that document is loaded. It holds direct connections
 * to the source documents (settings, buttons, the scenarios index and every
 * public scenario's content), recomputes on each of their updates, and commits the
 * minimal difference to the store *before* applying it to the live public
 * document, so readers only ever see committed content. It is the public
 * document's only writer, so it writes to the document it was given at load
 * time and serialises its own commits (a ServerWriter would look the document
 * up in Hocuspocus, where it is not yet during onLoadDocument).
 *
 * In review mode Mini App readers see what the bot's users see: the current
 * release (from `<space>/published`), never the drafts admins are editing.
 */
export class SpacePublicProjection {
  readonly space: string
  private readonly target: Y.Doc
  private readonly targetName: string
  private readonly hocuspocus: Hocuspocus
  private readonly store: DocumentStore
  private readonly log: Logger
  private settings: DirectConnection | null = null
  private index: DirectConnection | null = null
  private buttons: DirectConnection | null = null
  private published: DirectConnection | null = null
  private readonly scenarios = new Map<string, DirectConnection>()
  private readonly onSourceUpdate = (): void => this.schedule()
  private running: Promise<void> | null = null
  private dirty = false
  private stopped = false

  constructor(options: { space: string; target: Y.Doc; hocuspocus: Hocuspocus; store: DocumentStore; log: Logger }) {
    this.space = options.space
    this.target = options.target
    this.targetName = docName.public(options.space)
    this.hocuspocus = options.hocuspocus
    this.store = options.store
    this.log = options.log
  }

  /** Opens the sources and brings the public document up to date (before any reader syncs it). */
  async start(): Promise<void> {
    this.settings = await this.open(docName.settings(this.space))
    this.index = await this.open(docName.scenarios(this.space))
    this.buttons = await this.open(docName.buttons(this.space))
    this.published = await this.open(docName.published(this.space))
    await this.recompute()
  }

  /** Recomputes after the current run, coalescing bursts of source updates into one. */
  schedule(): void {
    if (this.stopped) return
    if (this.running) {
      this.dirty = true
      return
    }
    this.running = (async () => {
      try {
        do {
          this.dirty = false
          await this.recompute()
        } while (this.dirty && !this.stopped)
      } catch (error) {
        this.log.error({ event: 'public-projection-failed', space: this.space, err: error }, 'could not update the public document; retrying on the next change')
      } finally {
        this.running = null
      }
    })()
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.running?.catch(() => {})
    const connections = [this.settings, this.index, this.buttons, this.published, ...this.scenarios.values()].filter((c): c is DirectConnection => c !== null)
    this.settings = null
    this.index = null
    this.buttons = null
    this.published = null
    this.scenarios.clear()
    await Promise.all(connections.map((connection) => this.close(connection)))
  }

  private async recompute(): Promise<void> {
    if (this.stopped || !this.settings?.document || !this.index?.document || !this.buttons?.document) return
    const published = this.published?.document
    const release = published && getPublishMode(published) === 'review' ? getCurrentRelease(published) : null
    if (release) {
      // The release holds every scenario's content: no source documents to follow.
      for (const [id, connection] of this.scenarios) {
        this.scenarios.delete(id)
        await this.close(connection)
      }
      const { settings, scenarios, scenarioDocs, buttons } = release.content
      await this.commit((doc) => writePublicContent(doc, buildPublicContent(settings, scenarios, new Map(Object.entries(scenarioDocs)), buttons)))
      return
    }
    const index = projectScenarios(this.index.document)
    const wanted = new Set(publicScenarioIds(index))
    // Follow publishing: open the content of newly public scenarios, let go of unpublished ones.
    for (const [id, connection] of this.scenarios) {
      if (!wanted.has(id)) {
        this.scenarios.delete(id)
        await this.close(connection)
      }
    }
    for (const id of wanted) {
      if (!this.scenarios.has(id)) this.scenarios.set(id, await this.open(docName.scenario(this.space, id)))
      if (this.stopped) return
    }
    // A space nobody has written to (any name a viewer or reader makes up)
    // projects to an empty skeleton: storing that would let read-only
    // clients create rows. Nothing to show until the space has content.
    if (isBlank(this.target) && [this.settings, this.index, this.buttons].every((c) => isBlank(c.document!))) return
    const contents = new Map<string, ScenarioJson>()
    for (const [id, connection] of this.scenarios) if (connection.document) contents.set(id, projectScenario(connection.document))
    const content = buildPublicContent(projectSettings(this.settings.document), index, contents, projectButtons(this.buttons.document))
    await this.commit((doc) => writePublicContent(doc, content))
  }

  private async commit(change: (doc: Y.Doc) => void): Promise<void> {
    await commitFirst(this.store, this.targetName, Y.encodeStateAsUpdate(this.target), change, (update) => {
      if (!this.stopped) Y.applyUpdate(this.target, update, STORED_ORIGIN)
    })
  }

  private async open(name: string): Promise<DirectConnection> {
    const connection = await this.hocuspocus.openDirectConnection(name, { publicProjection: this.space })
    connection.document?.on('update', this.onSourceUpdate)
    return connection
  }

  private async close(connection: DirectConnection): Promise<void> {
    connection.document?.off('update', this.onSourceUpdate)
    await connection.disconnect().catch(() => {})
  }
}

/** No struct at all: never written (deletions need structs to delete). */
function isBlank(doc: Y.Doc): boolean {
  return doc.store.clients.size === 0
}

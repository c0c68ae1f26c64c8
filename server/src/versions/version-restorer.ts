import { exportSpace, scenarioPlan, spaceContentPlan, type SpaceExport, type VersionSummary, type WritePlan } from '@botsync/shared-docs'
import { runWritePlan } from '../write-plan-runner.ts'
import type { Logger } from '../logger.ts'
import type { ServerWriter } from '../server-writer.ts'
import { docsOf, type ReleasePublisher } from './release-publisher.ts'
import type { VersionStore } from './version-store.ts'

/** The version has no scenario of that id. */
export class UnknownScenarioError extends Error {}

/**
 * A version (or one scenario of it) written back into the drafts as a new
 * forward change: the log only grows, live clients receive it like any
 * server write, and only what differs is written. Through the ServerWriter,
 * stored as the restoring admin's updates, so history names them. (The
 * admin's own restore runs in the browser instead, so Ctrl+Z can undo it;
 * this is the API's.)
 */
export class VersionRestorer {
  private readonly versions: VersionStore
  private readonly writer: Pick<ServerWriter, 'change'>
  private readonly publisher: Pick<ReleasePublisher, 'mode'>
  private readonly log: Logger

  constructor(deps: { versions: VersionStore; writer: Pick<ServerWriter, 'change'>; publisher: Pick<ReleasePublisher, 'mode'>; log: Logger }) {
    this.versions = deps.versions
    this.writer = deps.writer
    this.publisher = deps.publisher
    this.log = deps.log
  }

  /**
   * The version as an export file (GET …/versions/:id/export). Its
   * `publishMode` is the space's current mode: a version stores the content
   * documents only, not the mode they were published under.
   */
  async exportOf(space: string, spaceName: string, version: VersionSummary): Promise<SpaceExport> {
    const [documents, publishMode] = await Promise.all([this.versions.documents(version.id), this.publisher.mode(space)])
    return exportSpace({ space: { id: space, name: spaceName }, docs: docsOf(documents), publishMode, now: new Date(version.createdAt) })
  }

  /** Returns the kinds of the documents that changed. A restore writes content only; the publish mode stays as it is. */
  async restore(space: string, version: VersionSummary, authorId: string, scenarioId?: string): Promise<string[]> {
    const { content } = exportSpace({ space: { id: space, name: space }, docs: docsOf(await this.versions.documents(version.id)) })
    let plan: WritePlan
    if (scenarioId === undefined) plan = spaceContentPlan(space, content)
    else {
      const scenario = content.scenarios.find((s) => s.id === scenarioId)
      if (!scenario) throw new UnknownScenarioError(`version ${version.id} has no scenario ${JSON.stringify(scenarioId)}`)
      plan = scenarioPlan(space, scenario)
    }
    const changed = await runWritePlan(this.writer, plan, authorId)
    this.log.info({ event: 'version-restored', space, version: version.id, kind: version.kind, number: version.number, scenario: scenarioId ?? null, user: authorId, changed })
    return changed
  }
}

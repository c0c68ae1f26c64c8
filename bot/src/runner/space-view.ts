import { projectSpace, validateSpace, type Problem } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'
import type { SpaceReplica } from '../replica/space-replica.ts'
import { SpaceContent } from './space-content.ts'
import { miniAppBase, webAppProblems, type MiniAppBase } from './web-app-urls.ts'

/** Reported at debug level only: the index often arrives a moment before a scenario's content. */
const TRANSIENT_CODES = new Set(['scenario-document-missing'])

export interface SpaceViewOptions {
  /** MINIAPP_URL, the base of web_app buttons that name a page of the bot's own Mini App. */
  miniAppUrl?: string
}

/**
 * The replica as the runner reads it. `current()` projects and validates the
 * live documents again only when the replica has changed since the last
 * call, so every answer reflects the latest edit without re-reading an
 * unchanged space for each update. Each problem is logged once, when it
 * first appears (and again if it comes back after being fixed).
 */
export class SpaceView {
  private readonly replica: SpaceReplica
  private readonly log: Logger
  private readonly miniApp: MiniAppBase
  private content: SpaceContent | undefined
  private version = -1
  private logged = new Set<string>()

  constructor(replica: SpaceReplica, log: Logger, options: SpaceViewOptions = {}) {
    this.replica = replica
    this.log = log
    this.miniApp = miniAppBase(options.miniAppUrl)
  }

  current(): SpaceContent {
    if (this.content && this.version === this.replica.version) return this.content
    this.version = this.replica.version
    const space = projectSpace(this.replica.docs())
    const problems = validateSpace(space)
    // Valid content this deployment cannot send is skipped and logged the same way.
    problems.push(...webAppProblems(space, problems, this.miniApp))
    this.report(problems)
    this.content = new SpaceContent(space, problems, this.miniApp)
    return this.content
  }

  private report(problems: readonly Problem[]): void {
    const now = new Set<string>()
    for (const problem of problems) {
      const key = `${problem.document}\u0000${problem.path.join('/')}\u0000${problem.code}`
      now.add(key)
      if (this.logged.has(key)) continue
      const level = TRANSIENT_CODES.has(problem.code) ? 'debug' : 'warn'
      this.log[level]({ event: 'content-skipped', space: this.replica.space, document: problem.document, path: problem.path.join('/'), code: problem.code }, problem.message)
    }
    this.logged = now
  }
}

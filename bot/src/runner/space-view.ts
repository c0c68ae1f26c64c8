import { currentReleaseNumber, getCurrentRelease, getPublishMode, projectSpace, validateSpace, type Problem, type SpaceJson } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'
import type { SpaceReplica } from '../replica/space-replica.ts'
import { SpaceContent } from './space-content.ts'
import { miniAppBase, webAppProblems, type MiniAppBase } from './web-app-urls.ts'

/** Reported at debug level only: the index often arrives a moment before a scenario's content. */
const TRANSIENT_CODES = new Set(['scenario-document-missing'])

export interface SpaceViewOptions {
  /** MINIAPP_URL, the base of web_app buttons that name a page of the bot's own Mini App. */
  miniAppUrl?: string
  /**
   * Answer from the drafts whatever the publish mode (the admin's chat
   * simulator trying unpublished edits). Default: the drafts in live mode,
   * the current release in review mode, as the bot does.
   */
  draftsOnly?: boolean
}

/** What the bot answers from: the drafts, or release n of `<space>/published`. */
type Source = { kind: 'drafts'; review: boolean } | { kind: 'release'; number: number }

/**
 * The replica as the runner reads it. `current()` hands out one SpaceContent
 * per consistent reading, and the runner composes each message from one of
 * them, so an answer never mixes two readings.
 *
 * In `live` mode (the default) the content is the drafts: projected and
 * validated again only when the replica has changed since the last call, so
 * every answer reflects the latest edit without re-reading an unchanged
 * space for each update.
 *
 * In `review` mode it is the current release of `<space>/published`: a
 * release is one value of that document (shared-docs published.ts), so it
 * arrives whole, and its SpaceContent is built once per release number; the
 * switch to the next release is one reference swap. Drafts edited meanwhile
 * are not read at all. A review-mode space without a (readable) release
 * answers from the drafts and says so once.
 *
 * Each problem is logged once, when it first appears (and again if it comes
 * back after being fixed), separately for the drafts and for the releases.
 */
export class SpaceView {
  private readonly replica: SpaceReplica
  private readonly log: Logger
  private readonly miniApp: MiniAppBase
  private readonly draftsOnly: boolean
  private content: SpaceContent | undefined
  private version = -1
  /** The cached content of the drafts (built when the replica version moved). */
  private drafts: { version: number; content: SpaceContent } | undefined
  /** The cached content of the current release. */
  private release: { number: number; content: SpaceContent } | undefined
  /** What the last answer came from, to log each switch once. */
  private source: Source | undefined
  private loggedDrafts = new Set<string>()
  private loggedRelease = new Set<string>()
  /** The release number whose value could not be read (logged once). */
  private unreadable: number | null = null

  constructor(replica: SpaceReplica, log: Logger, options: SpaceViewOptions = {}) {
    this.replica = replica
    this.log = log
    this.miniApp = miniAppBase(options.miniAppUrl)
    this.draftsOnly = options.draftsOnly === true
  }

  current(): SpaceContent {
    if (this.content && this.version === this.replica.version) return this.content
    this.version = this.replica.version
    const published = this.replica.published
    let content: SpaceContent
    let source: Source
    const review = !this.draftsOnly && getPublishMode(published) === 'review'
    const release = review ? this.currentRelease() : null
    if (release) {
      content = release.content
      source = { kind: 'release', number: release.number }
    } else {
      content = this.currentDrafts()
      source = { kind: 'drafts', review }
    }
    this.switched(source)
    this.content = content
    return content
  }

  /** The current release's content (built once per number), or null when there is none to read. */
  private currentRelease(): { number: number; content: SpaceContent } | null {
    const published = this.replica.published
    const number = currentReleaseNumber(published)
    if (number === null) return null
    if (this.release?.number === number) return this.release
    const release = getCurrentRelease(published)
    if (!release) {
      if (this.unreadable !== number) {
        this.unreadable = number
        this.log.error({ event: 'release-unreadable', space: this.replica.space, release: number }, 'the current release cannot be read')
      }
      // The last release read stays what the bot answers from; without one, the drafts.
      return this.release ?? null
    }
    const space = release.content
    const problems = this.validate(space)
    this.report(problems, this.loggedRelease, { release: number }, (next) => (this.loggedRelease = next))
    this.release = { number, content: new SpaceContent(space, problems, this.miniApp) }
    return this.release
  }

  private currentDrafts(): SpaceContent {
    if (this.drafts?.version === this.replica.version) return this.drafts.content
    const space = projectSpace(this.replica.docs())
    const problems = this.validate(space)
    this.report(problems, this.loggedDrafts, {}, (next) => (this.loggedDrafts = next))
    this.drafts = { version: this.replica.version, content: new SpaceContent(space, problems, this.miniApp) }
    return this.drafts.content
  }

  private validate(space: SpaceJson): Problem[] {
    const problems = validateSpace(space)
    // Valid content this deployment cannot send is skipped and logged the same way.
    problems.push(...webAppProblems(space, problems, this.miniApp))
    return problems
  }

  private switched(source: Source): void {
    const previous = this.source
    this.source = source
    if (source.kind === 'release') {
      if (previous?.kind !== 'release' || previous.number !== source.number) {
        this.log.info({ event: 'release-switched', space: this.replica.space, release: source.number, from: previous?.kind === 'release' ? previous.number : 'drafts' })
      }
      return
    }
    if (previous?.kind === 'drafts' && previous.review === source.review) return
    if (source.review) {
      this.log.warn({ event: 'review-without-release', space: this.replica.space }, 'review mode without a release to answer from; answering from the drafts')
    } else if (previous?.kind === 'release') {
      this.log.info({ event: 'answering-from-drafts', space: this.replica.space, from: previous.number }, 'live mode: answering from the drafts')
    }
  }

  private report(problems: readonly Problem[], logged: ReadonlySet<string>, extra: { release?: number }, keep: (now: Set<string>) => void): void {
    const now = new Set<string>()
    for (const problem of problems) {
      const key = `${problem.document}\u0000${problem.path.join('/')}\u0000${problem.code}`
      now.add(key)
      if (logged.has(key)) continue
      const level = TRANSIENT_CODES.has(problem.code) ? 'debug' : 'warn'
      this.log[level](
        { event: 'content-skipped', space: this.replica.space, ...extra, document: problem.document, path: problem.path.join('/'), code: problem.code },
        problem.message,
      )
    }
    keep(now)
  }
}

import type { Extension, onChangePayload } from '@hocuspocus/server'
import { parseDocumentName } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'
import type { ReleasePublisher } from './release-publisher.ts'

const CONTENT_KINDS = new Set(['settings', 'buttons', 'scenarios', 'scenario'])

/**
 * Automatic checkpoints of the drafts. The first change to a space's
 * content (from any client, another instance via Redis, or the server's own
 * writes) starts that space's timer; when CHECKPOINT_INTERVAL has passed, one
 * checkpoint is taken if some document differs from the latest version
 * (ReleasePublisher.checkpoint), none otherwise. So a space gets at most one
 * checkpoint per interval of editing, and a quiet space none. Every
 * instance runs the timers; the check under the space's row lock keeps two
 * instances from both taking one within an interval.
 */
export class Checkpointer implements Extension {
  extensionName = 'botsync-checkpoints'
  private readonly publisher: Pick<ReleasePublisher, 'checkpoint'>
  private readonly intervalMs: number
  private readonly log: Logger
  private readonly timers = new Map<string, NodeJS.Timeout>()

  constructor(deps: { publisher: Pick<ReleasePublisher, 'checkpoint'>; intervalMs: number; log: Logger }) {
    this.publisher = deps.publisher
    this.intervalMs = deps.intervalMs
    this.log = deps.log
  }

  async onChange({ documentName }: onChangePayload): Promise<void> {
    this.noteChange(documentName)
  }

  noteChange(documentName: string): void {
    const parsed = parseDocumentName(documentName)
    if (!parsed || !CONTENT_KINDS.has(parsed.kind) || this.timers.has(parsed.space) || this.intervalMs <= 0) return
    const space = parsed.space
    const timer = setTimeout(() => {
      this.timers.delete(space)
      this.publisher.checkpoint(space, this.intervalMs).catch((error: unknown) => this.log.warn({ event: 'checkpoint-failed', space, err: error }, 'the next edit retries'))
    }, this.intervalMs)
    timer.unref()
    this.timers.set(space, timer)
  }

  async onDestroy(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }
}

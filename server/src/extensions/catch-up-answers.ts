import type { Extension, Hocuspocus, onStatelessPayload } from '@hocuspocus/server'
import type { StoredStateVectors } from '@botsync/persistence'
import { catchUpAnswer, catchUpFailure, docName, isValidId, parseCatchUpRequest, parseDocumentName, scenariosRoot } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'
import type { ConnectionContext } from '../types.ts'

/**
 * Answers the bot's read-your-writes request (shared-docs catch-up.ts): a
 * stateless `botsync:catch-up` on any of its documents gets back the state
 * vector of each content document of its space (settings, buttons, the
 * scenario index and every scenario it lists, and `<space>/published`) as
 * PostgreSQL holds them.
 *
 * Why the database and not this instance's loaded documents: with several
 * instances, an edit another instance acknowledged is committed there
 * before its client hears "saved", but reaches this instance's copy only a
 * Redis hop later. The durable log is what every instance acknowledged; the
 * bot then waits until its replica (fed by this instance, which the edit
 * reaches through Redis fan-out or anti-entropy) covers it. One indexed
 * query per request, i.e. per batch of Telegram updates, not per update.
 *
 * The scenario documents to report come from the index this instance has
 * loaded (the bot keeps it open, so it is loaded here): a scenario another
 * instance created a moment ago is covered through the index's own vector,
 * and the bot waits for the new document's first sync (SpaceReplica).
 */
export class CatchUpAnswers implements Extension {
  extensionName = 'botsync-catch-up'
  private readonly vectors: StoredStateVectors
  private readonly hocuspocus: () => Hocuspocus
  private readonly log: Logger

  constructor(options: { vectors: StoredStateVectors; hocuspocus: () => Hocuspocus; log: Logger }) {
    this.vectors = options.vectors
    this.hocuspocus = options.hocuspocus
    this.log = options.log
  }

  async onStateless({ connection, documentName, payload }: onStatelessPayload): Promise<void> {
    const request = parseCatchUpRequest(payload)
    if (!request) return
    const context = connection.context as ConnectionContext | undefined
    // The bot's request only (its token reads one space): an admin has no use
    // for it, and nobody else should make this instance query on demand.
    if (context?.principal?.kind !== 'bot') return
    const space = context.space
    if (!space || parseDocumentName(documentName)?.space !== space) return
    const started = performance.now()
    try {
      const vectors = await this.vectors.of(this.contentDocuments(space))
      connection.sendStateless(catchUpAnswer(request.id, vectors))
      this.log.debug({ event: 'catch-up-answered', space, documents: vectors.size, ms: performance.now() - started })
    } catch (error) {
      this.log.error({ event: 'catch-up-failed', space, err: error }, 'could not read the stored state vectors')
      connection.sendStateless(catchUpFailure(request.id, 'storage-unavailable'))
    }
  }

  private contentDocuments(space: string): string[] {
    // The published document too: an answer right after a publish carries the new release.
    const names = [docName.settings(space), docName.buttons(space), docName.scenarios(space), docName.published(space)]
    const index = this.hocuspocus().documents.get(docName.scenarios(space))
    if (index) {
      scenariosRoot(index).forEach((_entry, id) => {
        if (isValidId(id)) names.push(docName.scenario(space, id))
      })
    }
    return names
  }
}

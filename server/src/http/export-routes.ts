import {
  SPACE_IMPORT_MAX_BYTES,
  docName,
  exportSpace,
  getPublishMode,
  projectMediaLibrary,
  projectScenarios,
  spaceContentPlan,
  validateSpaceExport,
  type ExportProblem,
  type MediaInfo,
  type PublishMode,
  type SpaceDocs,
  type SpaceImportRefusal,
  type SpaceImportResult,
  scratchDoc,
} from '@botsync/shared-docs'
import * as Y from 'yjs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { Spaces } from '../auth/spaces.ts'
import type { Logger } from '../logger.ts'
import type { ServerWriter } from '../server-writer.ts'
import { runWritePlan } from '../write-plan-runner.ts'
import type { ReleasePublisher } from '../versions/release-publisher.ts'
import type { Handler } from './http-api.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'

export interface ExportRoutesDeps {
  authenticator: Authenticator
  spaces: Pick<Spaces, 'get'>
  /** The server's own reads and writes of documents (ServerWriter): an import is committed before it is applied, and live clients receive it. */
  writer: Pick<ServerWriter, 'read' | 'change'>
  /** Sets the publish mode an owner's import carries, as PUT …/publish-mode does (the first switch to review publishes release 1). */
  publisher: Pick<ReleasePublisher, 'setMode'>
  log: Logger
  /** The largest import body; SPACE_IMPORT_MAX_BYTES unless given. */
  maxImportBytes?: number
}

/**
 * GET /api/spaces/:space/export (viewer and up): the space's content as one
 * JSON file (shared-docs/src/space-export.ts). POST /api/spaces/:space/import
 * (editor and up): such a file replaces the drafts, validated first (422
 * `invalid-export` with the problems and their paths; nothing is written),
 * then written document by document through the ServerWriter: each
 * scenario's content, the buttons, the settings, and the index last, so a
 * scenario appears only once its content is stored. Unchanged documents get
 * no update, so importing the same file again answers `changed: 0`.
 *
 * The file's `publishMode`, when it differs from the space's, is applied
 * after the content and only for an owner (whom PUT …/publish-mode allows),
 * so a switch to review releases the imported content; an editor's import
 * leaves the mode and says so in a warning. A file without it leaves the
 * mode alone.
 */
export function exportRoutes(deps: ExportRoutesDeps): Record<string, Handler> {
  const maxBytes = deps.maxImportBytes ?? SPACE_IMPORT_MAX_BYTES
  return {
    'GET /api/spaces/:space/export': async (request, response, { space }) => {
      await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')
      const row = await deps.spaces.get(space)
      const [docs, publishMode] = await Promise.all([readSpace(deps.writer, space), readPublishMode(deps.writer, space)])
      const file = exportSpace({ space: { id: space, name: row?.name ?? space }, docs, publishMode })
      const text = `${JSON.stringify(file, null, 2)}\n`
      response.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
        // The space id is [a-z0-9_-], safe in a quoted file name.
        'content-disposition': `attachment; filename="${space}-botsync.json"`,
      })
      response.end(text)
    },

    'POST /api/spaces/:space/import': async (request, response, { space }) => {
      const { principal, role, deletingAt } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'editor')
      if (deletingAt !== null) throw new HttpError(409, 'space-deleting', `space "${space}" is being deleted; restore it first`)
      if (Number(request.headers['content-length']) > maxBytes) throw new HttpError(413, 'body-too-large', `the body exceeds ${maxBytes} bytes`)
      const body = await readJson(request, maxBytes)
      // The file names media by id; whether this space has those files is read from its library (warnings, not refusals).
      const result = validateSpaceExport(body, { media: await readMediaLibrary(deps.writer, space) })
      if (!result.ok) {
        const refusal: SpaceImportRefusal = {
          error: 'invalid-export',
          message: `the file has ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}; nothing was imported`,
          problems: result.problems,
        }
        sendJson(response, 422, refusal)
        return
      }
      const changed = await runWritePlan(deps.writer, spaceContentPlan(space, result.value.content), principal.userId)
      const warnings = [...result.warnings]
      // Left out of the file: the space keeps its mode.
      const wanted = result.value.publishMode
      const current = wanted === undefined ? null : await readPublishMode(deps.writer, space)
      if (wanted !== undefined && current !== null && wanted !== current) {
        if (role === 'owner') {
          // After the content: the first switch to review publishes what was just imported.
          await deps.publisher.setMode(space, wanted, principal.userId)
          changed.push('published')
        } else warnings.push(publishModeNotApplied(current))
      }
      deps.log.info({ event: 'space-imported', space, user: principal.userId, changed: changed.length, scenarios: result.value.content.scenarios.length })
      const answer: SpaceImportResult = { changed: changed.length, warnings }
      sendJson(response, 200, answer)
    },
  }
}

/** An editor's import of a file whose publish mode differs from the space's: imported, the mode left as it is. */
function publishModeNotApplied(mode: PublishMode): ExportProblem {
  return { path: 'publishMode', code: 'publish-mode-not-applied', message: `only an owner changes the publish mode; the space stays "${mode}"` }
}

/** The space's media library, from `<space>/settings`. */
async function readMediaLibrary(writer: ExportRoutesDeps['writer'], space: string): Promise<Record<string, MediaInfo>> {
  const settings = await readDoc(writer, docName.settings(space))
  const media = projectMediaLibrary(settings)
  settings.destroy()
  return media
}

/** The space's publish mode, from `<space>/published`. */
async function readPublishMode(writer: ExportRoutesDeps['writer'], space: string): Promise<PublishMode> {
  const published = await readDoc(writer, docName.published(space))
  const mode = getPublishMode(published)
  published.destroy()
  return mode
}

async function readDoc(writer: ExportRoutesDeps['writer'], name: string): Promise<Y.Doc> {
  const doc = scratchDoc()
  const state = await writer.read(name)
  if (state) Y.applyUpdate(doc, state)
  return doc
}

/** The space's settings, buttons, index and the content of every scenario in the index. */
async function readSpace(writer: ExportRoutesDeps['writer'], space: string): Promise<SpaceDocs> {
  const [settings, buttons, scenarios] = await Promise.all([
    readDoc(writer, docName.settings(space)),
    readDoc(writer, docName.buttons(space)),
    readDoc(writer, docName.scenarios(space)),
  ])
  const ids = Object.keys(projectScenarios(scenarios))
  const contents = await Promise.all(ids.map((id) => readDoc(writer, docName.scenario(space, id))))
  return { settings, buttons, scenarios, scenarioDocs: new Map(ids.map((id, i) => [id, contents[i]])) }
}

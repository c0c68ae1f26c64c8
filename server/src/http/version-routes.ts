import type { IncomingMessage } from 'node:http'
import {
  DRAFT,
  isPublishMode,
  isValidId,
  RELEASE_NOTE_MAX,
  VERSION_ERRORS,
  type ChangesAnswer,
  type RestoreAnswer,
  type VersionSummary,
  type VersionsAnswer,
} from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { Spaces } from '../auth/spaces.ts'
import type { ReleasePublisher } from '../versions/release-publisher.ts'
import type { VersionChanges } from '../versions/version-changes.ts'
import { UnknownScenarioError, type VersionRestorer } from '../versions/version-restorer.ts'
import type { VersionStore } from '../versions/version-store.ts'
import type { Handler } from './http-api.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'

export interface VersionRoutesDeps {
  authenticator: Authenticator
  versions: VersionStore
  publisher: ReleasePublisher
  changes: VersionChanges
  restorer: VersionRestorer
  spaces: Pick<Spaces, 'get'>
}

/** Bodies of these routes are a note or a mode: small. */
const MAX_BODY_BYTES = 16 * 1024

/**
 * Releases and the publish mode (shared-docs/src/versions.ts has the shapes):
 * GET /api/spaces/:space/versions and …/publish-status (viewer and up),
 * POST …/releases (editor and up; an optional note), PUT …/publish-mode
 * (owner), GET …/versions/:id/changes?against=<id>|draft (the change list
 * from version :id to the other one or the drafts) and GET …/versions/:id/export
 * (the version as an export file), POST …/versions/:id/restore {scenarioId?}
 * (editor and up: the version, or one scenario of it, back into the drafts). Every check runs before anything is written.
 */
export function versionRoutes(deps: VersionRoutesDeps): Record<string, Handler> {
  const version = async (space: string, id: string): Promise<VersionSummary> => {
    const found = await deps.versions.get(space, id)
    if (!found) throw new HttpError(404, VERSION_ERRORS.unknownVersion, `space "${space}" has no version ${JSON.stringify(id)}`)
    return found
  }
  return {
    'GET /api/spaces/:space/versions/:id/changes': async (request, response, { space, id }) => {
      await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')
      const from = await version(space, id)
      const against = new URL(request.url ?? '/', 'http://localhost').searchParams.get('against') ?? DRAFT
      let to: VersionSummary | null = null
      if (against !== DRAFT) {
        to = await deps.versions.get(space, against)
        if (!to) throw new HttpError(400, VERSION_ERRORS.invalidAgainst, `against must be "draft" or a version id of "${space}"`)
      }
      const answer: ChangesAnswer = { from, to, changes: await deps.changes.between(space, from, to) }
      sendJson(response, 200, answer)
    },

    'GET /api/spaces/:space/versions/:id/export': async (request, response, { space, id }) => {
      await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')
      const found = await version(space, id)
      const row = await deps.spaces.get(space)
      sendJson(response, 200, await deps.restorer.exportOf(space, row?.name ?? space, found))
    },

    'POST /api/spaces/:space/versions/:id/restore': async (request, response, { space, id }) => {
      const { principal, deletingAt } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'editor')
      if (deletingAt !== null) throw new HttpError(409, 'space-deleting', `space "${space}" is being deleted; restore it first`)
      const found = await version(space, id)
      const body = hasBody(request) ? await readJson(request, MAX_BODY_BYTES) : {}
      const scenarioId = (body as { scenarioId?: unknown } | null)?.scenarioId
      if (scenarioId !== undefined && !isValidId(scenarioId)) throw new HttpError(404, VERSION_ERRORS.unknownScenario, 'scenarioId is not a scenario id')
      try {
        const answer: RestoreAnswer = { changed: await deps.restorer.restore(space, found, principal.userId, scenarioId) }
        sendJson(response, 200, answer)
      } catch (error) {
        if (error instanceof UnknownScenarioError) throw new HttpError(404, VERSION_ERRORS.unknownScenario, error.message)
        throw error
      }
    },

    'GET /api/spaces/:space/versions': async (request, response, { space }) => {
      await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')
      const [mode, versions] = await Promise.all([deps.publisher.mode(space), deps.versions.list(space)])
      const current = versions.find((version) => version.kind === 'release')?.number ?? null
      const answer: VersionsAnswer = { mode, current, versions }
      sendJson(response, 200, answer)
    },

    'GET /api/spaces/:space/publish-status': async (request, response, { space }) => {
      await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')
      sendJson(response, 200, await deps.publisher.status(space))
    },

    'POST /api/spaces/:space/releases': async (request, response, { space }) => {
      const { principal, deletingAt } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'editor')
      if (deletingAt !== null) throw new HttpError(409, 'space-deleting', `space "${space}" is being deleted; restore it first`)
      const body = hasBody(request) ? await readJson(request, MAX_BODY_BYTES) : {}
      const note = (body as { note?: unknown } | null)?.note
      if (note !== undefined && note !== null && (typeof note !== 'string' || [...note].length > RELEASE_NOTE_MAX)) {
        throw new HttpError(400, VERSION_ERRORS.invalidNote, `note must be a string of at most ${RELEASE_NOTE_MAX} characters`)
      }
      const release = await deps.publisher.publish(space, principal.userId, typeof note === 'string' && note.trim() !== '' ? note.trim() : null)
      sendJson(response, 201, release)
    },

    'PUT /api/spaces/:space/publish-mode': async (request, response, { space }) => {
      const { principal, deletingAt } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')
      if (deletingAt !== null) throw new HttpError(409, 'space-deleting', `space "${space}" is being deleted; restore it first`)
      const mode = ((await readJson(request, MAX_BODY_BYTES)) as { mode?: unknown } | null)?.mode
      if (!isPublishMode(mode)) throw new HttpError(400, VERSION_ERRORS.invalidMode, 'mode must be "live" or "review"')
      sendJson(response, 200, await deps.publisher.setMode(space, mode, principal.userId))
    },
  }
}

/** A POST without a body (or an empty one) publishes without a note. */
function hasBody(request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true
  return Number(request.headers['content-length'] ?? 0) > 0
}

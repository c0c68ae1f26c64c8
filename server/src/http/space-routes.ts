import type { IncomingMessage, ServerResponse } from 'node:http'
import { isSpaceId, type SpaceSummary } from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { InviteMailer } from '../auth/invite-mailer.ts'
import type { Invites } from '../auth/invites.ts'
import type { SpaceMembers } from '../auth/space-members.ts'
import type { Spaces } from '../auth/spaces.ts'
import type { TokenIssuer } from '../auth/token-issuer.ts'
import type { User, UserRepository } from '../auth/user-repository.ts'
import type { Logger } from '../logger.ts'
import type { Handler } from './http-api.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'

/** What the spaces, members and invites routes need (HttpApi passes its deps and its session builder). */
export interface SpaceApiDeps {
  authenticator: Authenticator
  users: UserRepository
  tokens: TokenIssuer
  spaces: Spaces
  members: SpaceMembers
  invites: Invites
  mailer: InviteMailer | null
  publicUrl?: string
  spaceDeleteGraceSeconds: number
  log: Logger
  /** Answers like /api/login: an access token for this user, and a new session's refresh cookie set on `response`. */
  session(request: IncomingMessage, response: ServerResponse, user: User): Promise<{ token: string; expiresAt: number; user: User }>
  /** Revokes every session of the user (a password reset); their open sockets are closed. */
  endSessions(userId: string): Promise<unknown>
}

/**
 * Spaces are created, not typed: GET lists the caller's memberships, POST
 * creates one (any admin; they become its owner), DELETE starts the grace
 * period (owner, with `confirm` naming the space), restore cancels it.
 */
export function spaceRoutes(deps: SpaceApiDeps): Record<string, Handler> {
  return {
    'GET /api/spaces': async (request, response) => {
      const principal = await adminOf(deps, request)
      sendJson(response, 200, { spaces: await deps.members.spacesOf(principal.userId) })
    },

    'POST /api/spaces': async (request, response) => {
      const principal = await adminOf(deps, request)
      const body = (await readJson(request, 4096)) as { id?: unknown; name?: unknown } | null
      if (!isSpaceId(body?.id)) {
        throw new HttpError(400, 'invalid-space', 'id: 1-63 of a-z 0-9 _ -, starting with a letter or digit')
      }
      const name = body.name === undefined ? body.id : body.name
      if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw new HttpError(400, 'invalid-space', 'name: 1-100 characters')
      const space = await deps.spaces.create({ id: body.id, name: name.trim() }, principal.userId)
      deps.log.info({ event: 'space-created', space: space.id, user: principal.userId })
      sendJson(response, 201, { space: { id: space.id, name: space.name, role: 'owner', deletingAt: null } satisfies SpaceSummary })
    },

    'DELETE /api/spaces/:space': async (request, response, { space }) => {
      const { principal } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')
      const body = (await readJson(request, 4096)) as { confirm?: unknown } | null
      if (body?.confirm !== space) throw new HttpError(400, 'confirm-required', `send {"confirm": "${space}"} to delete this space`)
      const deletingAt = await deps.spaces.markDeleting(space, deps.spaceDeleteGraceSeconds)
      deps.log.info({ event: 'space-deleting', space, user: principal.userId, purgeAt: deletingAt })
      sendJson(response, 200, { deletingAt })
    },

    'POST /api/spaces/:space/restore': async (request, response, { space }) => {
      const { principal } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')
      await deps.spaces.restore(space)
      deps.log.info({ event: 'space-restored', space, user: principal.userId })
      sendJson(response, 200, { deletingAt: null })
    },
  }
}

/** The admin of the request's Bearer token (401 without one, 403 for the bot or a reader). */
async function adminOf(deps: SpaceApiDeps, request: IncomingMessage) {
  const principal = await deps.authenticator.identify(requestToken(request))
  if (principal.kind !== 'admin') throw new HttpError(403, 'not-an-admin', 'only admin session tokens may do this')
  return principal
}

/** Where invite links point: PUBLIC_URL, or the origin the request came from. */
export function linkOrigin(deps: { publicUrl?: string }, request: IncomingMessage): string {
  if (deps.publicUrl) return deps.publicUrl
  const origin = request.headers.origin
  if (typeof origin === 'string' && /^https?:\/\/[^/]+$/.test(origin)) return origin
  return `http://${request.headers.host ?? 'localhost'}`
}

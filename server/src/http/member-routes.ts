import { inviteUrl, isSpaceRole } from '@botsync/shared-docs'
import { tryEmail } from '../auth/invite-mailer.ts'
import type { Handler } from './http-api.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'
import { linkOrigin, type SpaceApiDeps } from './space-routes.ts'

/**
 * A space's people: any member lists them (owners also see pending links);
 * owners change roles, remove members and issue password-reset links; a
 * member may remove themself (leave). The space keeps one owner (409
 * `last-owner`, checked under a lock in SpaceMembers).
 */
export function memberRoutes(deps: SpaceApiDeps): Record<string, Handler> {
  return {
    'GET /api/spaces/:space/members': async (request, response, { space }) => {
      const { role } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')
      const [members, invites] = await Promise.all([deps.members.list(space), role === 'owner' ? deps.invites.pending(space) : []])
      sendJson(response, 200, { members, invites })
    },

    'PATCH /api/spaces/:space/members/:userId': async (request, response, { space, userId }) => {
      const { principal } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')
      const body = (await readJson(request, 4096)) as { role?: unknown } | null
      if (!isSpaceRole(body?.role)) throw new HttpError(400, 'invalid-request', 'send {"role": "owner" | "editor" | "viewer"}')
      if ((await deps.members.setRole(space, userId, body.role)) === null) throw notMember(userId)
      deps.log.info({ event: 'member-role-changed', space, member: userId, role: body.role, by: principal.userId })
      sendJson(response, 200, { member: await deps.members.get(space, userId) })
    },

    'DELETE /api/spaces/:space/members/:userId': async (request, response, { space, userId }) => {
      const { principal, role } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')
      if (role !== 'owner' && principal.userId !== userId) throw new HttpError(403, 'not-an-owner', 'only owners remove other members')
      if (!(await deps.members.remove(space, userId))) throw notMember(userId)
      deps.log.info({ event: 'member-removed', space, member: userId, by: principal.userId })
      response.writeHead(204).end()
    },

    'POST /api/spaces/:space/members/:userId/reset': async (request, response, { space, userId }) => {
      const { principal } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')
      const member = await deps.members.get(space, userId)
      if (!member) throw notMember(userId)
      // A reset link opens the whole account, every space of it: only someone
      // who owns every space the member is in may issue one.
      const owned = new Set((await deps.members.spacesOf(principal.userId)).filter((entry) => entry.role === 'owner').map((entry) => entry.id))
      const elsewhere = (await deps.members.spacesOf(userId)).filter((entry) => !owned.has(entry.id))
      if (elsewhere.length > 0) {
        throw new HttpError(403, 'forbidden-space', 'this member is also in spaces you do not own; an owner of every one of their spaces may reset their password')
      }
      const { token, expiresAt } = await deps.invites.create({ space, email: member.email, role: member.role, kind: 'reset', userId, createdBy: principal.userId })
      const url = inviteUrl(linkOrigin(deps, request), token)
      const spaceRow = await deps.spaces.get(space)
      const emailed = await tryEmail(deps.mailer, { to: member.email, url, kind: 'reset', spaceName: spaceRow?.name ?? space, role: member.role, expiresAt }, deps.log)
      deps.log.info({ event: 'reset-link-issued', space, member: userId, by: principal.userId, emailed })
      sendJson(response, 201, { url, expiresAt, emailed })
    },
  }
}

function notMember(userId: string): HttpError {
  return new HttpError(404, 'not-found', `user ${userId.slice(0, 20)} is not a member of this space`)
}

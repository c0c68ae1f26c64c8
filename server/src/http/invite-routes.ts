import { inviteUrl, isSpaceRole, type InviteInfo } from '@botsync/shared-docs'
import { tryEmail } from '../auth/invite-mailer.ts'
import { Conflict } from '../auth/roles.ts'
import { normaliseEmail } from '../auth/user-repository.ts'
import type { Handler } from './http-api.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'
import { linkOrigin, type SpaceApiDeps } from './space-routes.ts'

const MIN_PASSWORD = 8

/**
 * One-time links. An owner invites an email with a role (the link is
 * answered, and emailed with SMTP_URL; a failed email loses nothing:
 * `emailed: false`); anyone holding the link can read what it is for and
 * accept it once: a new user sets a name and password, an existing user just
 * joins, a reset sets the password.
 */
export function inviteRoutes(deps: SpaceApiDeps): Record<string, Handler> {
  return {
    'POST /api/spaces/:space/invites': async (request, response, { space }) => {
      const { principal } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')
      const body = (await readJson(request, 4096)) as { email?: unknown; role?: unknown } | null
      if (typeof body?.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(body.email.trim()) || body.email.length > 320 || !isSpaceRole(body.role)) {
        throw new HttpError(400, 'invalid-request', 'send {"email": an email address, "role": "owner" | "editor" | "viewer"}')
      }
      const email = normaliseEmail(body.email)
      const existing = await deps.users.findByEmail(email)
      if (existing && (await deps.members.roleOf(space, existing.id)) !== null) throw new Conflict('already-member', `${email} is already a member of this space`)
      const { id, token, expiresAt } = await deps.invites.create({ space, email, role: body.role, kind: 'invite', createdBy: principal.userId })
      const url = inviteUrl(linkOrigin(deps, request), token)
      const spaceRow = await deps.spaces.get(space)
      const emailed = await tryEmail(deps.mailer, { to: email, url, kind: 'invite', spaceName: spaceRow?.name ?? space, role: body.role, expiresAt }, deps.log)
      deps.log.info({ event: 'invite-created', space, invite: id, role: body.role, by: principal.userId, emailed })
      sendJson(response, 201, { id, url, expiresAt, emailed })
    },

    'DELETE /api/spaces/:space/invites/:id': async (request, response, { space, id }) => {
      const { principal } = await deps.authenticator.requireSpaceRole(requestToken(request), space, 'owner')
      if (!(await deps.invites.revoke(space, id))) throw new HttpError(404, 'not-found', 'no pending invite with that id in this space')
      deps.log.info({ event: 'invite-revoked', space, invite: id, by: principal.userId })
      response.writeHead(204).end()
    },

    'GET /api/invites/:token': async (_request, response, { token }) => {
      const invite = await deps.invites.find(token)
      const existingUser = invite.kind === 'reset' || (await deps.users.findByEmail(invite.email)) !== null
      sendJson(response, 200, {
        space: invite.space,
        spaceName: invite.spaceName,
        email: invite.email,
        role: invite.role,
        kind: invite.kind,
        existingUser,
        expiresAt: invite.expiresAt,
      } satisfies InviteInfo)
    },

    'POST /api/invites/:token/accept': async (request, response, { token }) => {
      const body = ((await readJson(request, 16 * 1024)) ?? {}) as { name?: unknown; password?: unknown }
      const invite = await deps.invites.find(token)
      const password = typeof body.password === 'string' ? body.password : null
      if (invite.kind === 'reset') {
        if (password === null || password.length < MIN_PASSWORD) throw new HttpError(400, 'invalid-request', `send {"password": at least ${MIN_PASSWORD} characters}`)
        const hash = await deps.users.passwords.hash(password)
        await deps.invites.redeem(token, (used, tx) => deps.users.setPasswordHash(used.userId!, hash, tx))
        const user = await deps.users.findById(invite.userId!)
        if (!user) throw new HttpError(404, 'invite-not-found', 'the user of this link no longer exists')
        // Whoever knew the old password may hold a session: every one of them ends here.
        await deps.endSessions(user.id)
        deps.log.info({ event: 'password-reset', user: user.id, space: invite.space })
        sendJson(response, 200, await deps.session(request, response, user))
        return
      }
      if (await deps.users.findByEmail(invite.email)) {
        await deps.invites.redeem(token, async (used, tx) => {
          const user = await deps.users.findByEmail(used.email, tx)
          try {
            await deps.members.add(used.space, user!.id, used.role, tx)
          } catch (error) {
            // Joined some other way meanwhile: the link is used up all the same.
            if (!(error instanceof Conflict)) throw error
          }
        })
        deps.log.info({ event: 'invite-accepted', space: invite.space, invite: invite.id, existingUser: true })
        sendJson(response, 200, { joined: invite.space })
        return
      }
      const name = typeof body.name === 'string' ? body.name.trim() : ''
      if (name === '' || name.length > 100 || password === null || password.length < MIN_PASSWORD) {
        throw new HttpError(400, 'invalid-request', `send {"name": 1-100 characters, "password": at least ${MIN_PASSWORD} characters}`)
      }
      const passwordHash = await deps.users.passwords.hash(password)
      const user = await deps.invites.redeem(token, async (used, tx) => {
        const created = await deps.users.create({ email: used.email, name, passwordHash }, tx)
        await deps.members.add(used.space, created.id, used.role, tx)
        return created
      })
      deps.log.info({ event: 'invite-accepted', space: invite.space, invite: invite.id, user: user.id, existingUser: false })
      sendJson(response, 200, await deps.session(request, response, user))
    },
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http'
import { isSimulatorSource, isValidId, LIMITS, SIMULATOR_ERRORS, type SimulatorAnswer, type SimulatorSessionCreated } from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import type { Principal } from '../auth/roles.ts'
import type { Logger } from '../logger.ts'
import { TooManySimulations, type SimulatorSession, type SimulatorSessions } from '../simulator/simulator-sessions.ts'
import type { Handler } from './http-api.ts'
import { HttpError, readJson, requestToken, sendJson } from './respond.ts'

export interface SimulatorRoutesDeps {
  authenticator: Authenticator
  sessions: SimulatorSessions
  log: Logger
}

type Admin = Extract<Principal, { kind: 'admin' }>

/** A message is at most Telegram's 4096 characters; with JSON's escaping a few times that. */
const MAX_BODY_BYTES = 64 * 1024

/**
 * The admin's chat simulator ("Try it"): the space's bot as a user meets it,
 * run by the bot's own ScenarioRunner in this process (SimulatedChat), over
 * the space's replica, with an in-memory session and no Telegram.
 *
 *   POST   /api/spaces/:space/simulator             {source?, scenarioId?, stepId?} → {id, source, sent, edited}
 *   POST   /api/spaces/:space/simulator/:id/message {text}                          → {sent, edited}
 *   POST   /api/spaces/:space/simulator/:id/press   {messageId, buttonId | callbackData} → {sent, edited, answeredCallback}
 *   DELETE /api/spaces/:space/simulator/:id         (reset) → 204
 *
 * Every member of the space may simulate, viewers too: trying the bot reads
 * content and writes nothing. A reply keyboard's button is pressed by
 * sending its label as a message, as in Telegram.
 */
export function simulatorRoutes(deps: SimulatorRoutesDeps): Record<string, Handler> {
  const member = async (request: IncomingMessage, space: string): Promise<Admin> => (await deps.authenticator.requireSpaceRole(requestToken(request), space, 'viewer')).principal
  const session = async (request: IncomingMessage, space: string, id: string): Promise<SimulatorSession> => {
    const admin = await member(request, space)
    const found = deps.sessions.get(id, admin.userId, space)
    if (!found) throw new HttpError(404, SIMULATOR_ERRORS.sessionNotFound, 'this conversation has ended (reset, or unused for too long); start a new one')
    return found
  }
  const answer = (response: ServerResponse, body: SimulatorAnswer | SimulatorSessionCreated) => sendJson(response, 200, body)

  return {
    'POST /api/spaces/:space/simulator': async (request, response, { space }) => {
      const admin = await member(request, space)
      const body = ((await readJson(request, MAX_BODY_BYTES)) ?? {}) as Record<string, unknown>
      if (typeof body !== 'object' || Array.isArray(body)) throw invalid('send {"source"?: "drafts" | "release", "scenarioId"?, "stepId"?}')
      const source = body.source ?? 'drafts'
      if (!isSimulatorSource(source)) throw invalid('"source" is "drafts" or "release"')
      const { scenarioId, stepId } = body
      const startAt = scenarioId !== undefined || stepId !== undefined
      if (startAt && (!isValidId(scenarioId) || !isValidId(stepId))) throw invalid('"Start from this step" needs both "scenarioId" and "stepId" (ids)')
      let created: SimulatorSession
      try {
        created = await deps.sessions.create(admin.userId, space, source, { name: admin.name })
      } catch (error) {
        if (error instanceof TooManySimulations) throw new HttpError(429, SIMULATOR_ERRORS.tooManySessions, error.message)
        deps.log.warn({ event: 'simulator-unavailable', space, err: error })
        throw new HttpError(503, SIMULATOR_ERRORS.unavailable, "the space's content could not be read right now; try again")
      }
      const shown = startAt ? await created.chat.startAt({ scenarioId: scenarioId as string, stepId: stepId as string }) : { sent: [], edited: [] }
      answer(response, { id: created.id, source, ...shown })
    },
    'POST /api/spaces/:space/simulator/:id/message': async (request, response, { space, id }) => {
      const found = await session(request, space, id)
      const body = (await readJson(request, MAX_BODY_BYTES)) as { text?: unknown } | null
      const text = body?.text
      if (typeof text !== 'string' || text.trim() === '') throw invalid('send {"text": "…"}: what the user types (not empty)')
      if (text.length > LIMITS.messageText) throw invalid(`a message is at most ${LIMITS.messageText} characters, as in Telegram`)
      answer(response, await found.chat.message(text))
    },
    'POST /api/spaces/:space/simulator/:id/press': async (request, response, { space, id }) => {
      const found = await session(request, space, id)
      const body = (await readJson(request, MAX_BODY_BYTES)) as { messageId?: unknown; buttonId?: unknown; callbackData?: unknown } | null
      const messageId = body?.messageId
      if (!Number.isSafeInteger(messageId) || (messageId as number) <= 0) throw invalid('send {"messageId": <the message whose button was pressed>, "buttonId" | "callbackData"}')
      const { buttonId, callbackData } = body!
      if (buttonId !== undefined && !isValidId(buttonId)) throw invalid('"buttonId" is a button id')
      if (callbackData !== undefined && (typeof callbackData !== 'string' || callbackData.length > 64)) throw invalid('"callbackData" is a string of at most 64 bytes')
      if (buttonId === undefined && callbackData === undefined) throw invalid('name the button: "buttonId" or "callbackData"')
      answer(response, await found.chat.press(messageId as number, { buttonId: buttonId as string | undefined, callbackData: callbackData as string | undefined }))
    },
    'DELETE /api/spaces/:space/simulator/:id': async (request, response, { space, id }) => {
      const admin = await member(request, space)
      deps.sessions.delete(id, admin.userId, space)
      response.writeHead(204, { 'cache-control': 'no-store' })
      response.end()
    },
  }
}

function invalid(message: string): HttpError {
  return new HttpError(400, SIMULATOR_ERRORS.invalidRequest, message)
}

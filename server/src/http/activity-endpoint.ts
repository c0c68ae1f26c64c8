import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseActivityEvent, type ActivityEvent } from '@botsync/shared-docs'
import type { Authenticator } from '../auth/authenticator.ts'
import { HttpError, bearerToken, readJson, sendJson } from './respond.ts'

/** Largest batch accepted in one request; the bot sends at most 200. */
export const MAX_ACTIVITY_EVENTS = 1000
const MAX_BODY_BYTES = 512 * 1024

/** Applies a batch to `<space>/activity`; resolves once it is committed. */
export type RecordActivity = (space: string, events: ActivityEvent[]) => Promise<void>

/**
 * POST /api/activity `{events: ActivityEvent[]}` with the bot token.
 * Only the bot reports activity, and only for its own space; the server
 * turns the batch into one change of the activity document (counters and
 * the last events), which only the server writes. Malformed events are
 * counted and left out; the rest of the batch is applied.
 */
export function activityEndpoint(authenticator: Authenticator, record: RecordActivity) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const principal = await authenticator.identify(bearerToken(request))
    if (principal.kind !== 'bot') throw new HttpError(403, 'forbidden', 'only the bot reports activity')
    const body = (await readJson(request, MAX_BODY_BYTES)) as { events?: unknown } | null
    if (!Array.isArray(body?.events)) throw new HttpError(400, 'invalid-request', 'send {"events": [ActivityEvent, …]}')
    if (body.events.length > MAX_ACTIVITY_EVENTS) {
      throw new HttpError(413, 'too-many-events', `at most ${MAX_ACTIVITY_EVENTS} events per request`)
    }
    const events: ActivityEvent[] = []
    const rejected: number[] = []
    body.events.forEach((value, index) => {
      const event = parseActivityEvent(value)
      if (event) events.push(event)
      else rejected.push(index)
    })
    if (events.length > 0) await record(principal.space, events)
    sendJson(response, 200, { accepted: events.length, rejected })
  }
}

// The activity document, written by the server only: `doc.getMap('activity')`
//   counters: Y.Map<number>            e.g. 'scenario:<id>:entered'
//   events:   Y.Array<ActivityEvent>   plain JSON, newest last, last 100 only
//
// Counters are last-writer-wins Y.Map values, not CRDT counters: two writers
// incrementing concurrently would lose one increment. That is why only the
// server writes here, through applyActivityEvents, one batch at a time.
import * as Y from 'yjs'
import { isValidId } from './names.ts'
import type { ActivityEvent, ActivityEventType } from './types.ts'
import { asArray, asMap } from './ytypes.ts'

export const ACTIVITY_EVENTS_LIMIT = 100

export const counterKey = {
  scenarioEntered: (scenarioId: string): string => `scenario:${scenarioId}:entered`,
  stepReached: (scenarioId: string, stepId: string): string => `step:${scenarioId}/${stepId}:reached`,
  buttonPressed: (buttonId: string): string => `button:${buttonId}:pressed`,
  usersStarted: 'users:started',
  inputRejected: 'input:rejected',
} as const

/** The counters one event increments. */
export function counterKeysFor(event: ActivityEvent): string[] {
  switch (event.type) {
    case 'user_started':
      return [counterKey.usersStarted]
    case 'scenario_entered':
      return [counterKey.scenarioEntered(event.scenarioId)]
    case 'step_reached':
      return [counterKey.stepReached(event.scenarioId, event.stepId)]
    case 'button_pressed':
      return [counterKey.buttonPressed(event.buttonId)]
    case 'input_rejected':
      return [counterKey.inputRejected]
  }
}

const ID_FIELDS: Record<ActivityEventType, readonly string[]> = {
  user_started: [],
  scenario_entered: ['scenarioId'],
  step_reached: ['scenarioId', 'stepId'],
  button_pressed: ['buttonId'],
  input_rejected: ['scenarioId', 'stepId'],
}

/**
 * Parses a reported event (which arrives over the network from the bot) into
 * a clean ActivityEvent holding only known fields, or null if malformed.
 */
export function parseActivityEvent(value: unknown): ActivityEvent | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const v = value as Record<string, unknown>
  if (typeof v.type !== 'string' || !Object.hasOwn(ID_FIELDS, v.type)) return null
  if (typeof v.at !== 'number' || !Number.isFinite(v.at)) return null
  const type = v.type as ActivityEventType
  const event: Record<string, unknown> = { type, at: v.at }
  for (const field of ID_FIELDS[type]) {
    if (!isValidId(v[field])) return null
    event[field] = v[field]
  }
  return event as ActivityEvent
}

export function activityRoot(doc: Y.Doc): Y.Map<unknown> {
  return doc.getMap<unknown>('activity')
}

export function getCounters(doc: Y.Doc): Y.Map<number> | undefined {
  return asMap(activityRoot(doc).get('counters')) as Y.Map<number> | undefined
}

export function getEvents(doc: Y.Doc): Y.Array<ActivityEvent> | undefined {
  return asArray(activityRoot(doc).get('events')) as Y.Array<ActivityEvent> | undefined
}

export function getCounter(doc: Y.Doc, key: string): number {
  const value = getCounters(doc)?.get(key)
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

/** Creates the missing skeleton (counters, events) in one transaction. */
export function initActivityDoc(doc: Y.Doc): void {
  doc.transact(() => {
    const root = activityRoot(doc)
    if (!getCounters(doc)) root.set('counters', new Y.Map<number>())
    if (!getEvents(doc)) root.set('events', new Y.Array<ActivityEvent>())
  })
}

/**
 * Applies a batch of reported events in one transaction: increments their
 * counters, appends them, and trims the list to the newest `limit`.
 * Malformed events are skipped. Returns how many events were applied.
 */
export function applyActivityEvents(doc: Y.Doc, events: readonly unknown[], limit: number = ACTIVITY_EVENTS_LIMIT): number {
  const clean = events.map(parseActivityEvent).filter((e): e is ActivityEvent => e !== null)
  if (clean.length === 0) return 0
  doc.transact(() => {
    initActivityDoc(doc)
    const counters = getCounters(doc)!
    const list = getEvents(doc)!
    // Sum per key first so each counter is written once per batch, keeping
    // the update small however many events the batch holds.
    const deltas = new Map<string, number>()
    for (const event of clean) {
      for (const key of counterKeysFor(event)) deltas.set(key, (deltas.get(key) ?? 0) + 1)
    }
    for (const [key, delta] of deltas) counters.set(key, getCounter(doc, key) + delta)
    // Only the newest `limit` of this batch can survive the trim anyway.
    list.push(clean.slice(-Math.max(0, limit)))
    const excess = list.length - Math.max(0, limit)
    if (excess > 0) list.delete(0, excess)
  })
  return clean.length
}

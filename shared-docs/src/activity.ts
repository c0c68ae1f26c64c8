// The activity document, written by the server only:
//   doc.getMap('activity')
//     counters: Y.Map<number>            e.g. 'scenario:<id>:entered' (old single counters, read only)
//     events:   Y.Array<ActivityEvent>   plain JSON, newest last, last 100 only
//   doc.getMap('activityCounts')         '<writer>|<counter key>' → number
//
// A counter's value is the sum of its parts: one part per writer (a server
// instance's node id), which only that writer ever sets. Y.Map values are
// last-writer-wins, so one shared number incremented by two instances at
// once would lose an increment; parts that each have a single writer cannot
// conflict, and the sum is exact however many instances count at once. The
// parts live in a top-level map because a nested map created by two
// instances concurrently would itself be last-writer-wins (one whole map
// lost). Documents written before this keep their single `counters`: they
// are read as old value + parts and never written again.
import * as Y from 'yjs'
import { LIMITS } from './limits.ts'
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
  // A name for people only: any text, cut to a title's length (it comes over the network).
  if ((type === 'step_reached' || type === 'input_rejected') && typeof v.stepTitle === 'string' && v.stepTitle.trim() !== '') {
    event.stepTitle = Array.from(v.stepTitle.trim()).slice(0, LIMITS.stepTitle).join('')
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

/** The top-level map of per-writer counter parts, `<writer>|<counter key>` → number. */
export function counterParts(doc: Y.Doc): Y.Map<number> {
  return doc.getMap<number>('activityCounts')
}

/** Used when applyActivityEvents is given no writer (one process writing alone, tests). */
export const DEFAULT_ACTIVITY_WRITER = 'local'

const PART_SEPARATOR = '|'

/** A writer id usable in part keys: the separator is replaced, empty becomes the default. */
export function activityWriterId(writer: string): string {
  const clean = writer.replaceAll(PART_SEPARATOR, '_')
  return clean === '' ? DEFAULT_ACTIVITY_WRITER : clean
}

function partKey(writer: string, key: string): string {
  return `${writer}${PART_SEPARATOR}${key}`
}

function finite(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

/**
 * Every counter with its value: the old single counter (documents from
 * before per-writer parts) plus the sum of every writer's part.
 */
export function readCounters(doc: Y.Doc): Map<string, number> {
  const totals = new Map<string, number>()
  const add = (key: string, value: unknown): void => {
    if (key === '__proto__' || key === '') return
    if (typeof value !== 'number' || !Number.isFinite(value)) return
    totals.set(key, (totals.get(key) ?? 0) + value)
  }
  getCounters(doc)?.forEach((value, key) => add(key, value))
  counterParts(doc).forEach((value, part) => {
    const at = part.indexOf(PART_SEPARATOR)
    if (at > 0) add(part.slice(at + 1), value)
  })
  return totals
}

export function getCounter(doc: Y.Doc, key: string): number {
  let total = finite(getCounters(doc)?.get(key))
  counterParts(doc).forEach((value, part) => {
    const at = part.indexOf(PART_SEPARATOR)
    if (at > 0 && part.slice(at + 1) === key) total += finite(value)
  })
  return total
}

/** Creates the missing skeleton (counters, events) in one transaction. */
export function initActivityDoc(doc: Y.Doc): void {
  doc.transact(() => {
    const root = activityRoot(doc)
    if (!getCounters(doc)) root.set('counters', new Y.Map<number>())
    if (!getEvents(doc)) root.set('events', new Y.Array<ActivityEvent>())
  })
}

export interface ApplyActivityOptions {
  /** Newest events kept. Default ACTIVITY_EVENTS_LIMIT. */
  limit?: number
  /**
   * Whose counter parts this batch increments: a server instance's unique
   * node id. Two processes must never share one (their increments would
   * overwrite each other). Default DEFAULT_ACTIVITY_WRITER.
   */
  writer?: string
}

/**
 * Applies a batch of reported events in one transaction: increments this
 * writer's parts of their counters, appends them, and trims the list to the
 * newest `limit`. Malformed events are skipped. Returns how many events were
 * applied.
 */
export function applyActivityEvents(doc: Y.Doc, events: readonly unknown[], options: number | ApplyActivityOptions = {}): number {
  const { limit = ACTIVITY_EVENTS_LIMIT, writer = DEFAULT_ACTIVITY_WRITER } = typeof options === 'number' ? { limit: options } : options
  const own = activityWriterId(writer)
  const clean = events.map(parseActivityEvent).filter((e): e is ActivityEvent => e !== null)
  if (clean.length === 0) return 0
  doc.transact(() => {
    initActivityDoc(doc)
    const parts = counterParts(doc)
    const list = getEvents(doc)!
    // Sum per key first so each counter is written once per batch, keeping
    // the update small however many events the batch holds.
    const deltas = new Map<string, number>()
    for (const event of clean) {
      for (const key of counterKeysFor(event)) deltas.set(key, (deltas.get(key) ?? 0) + 1)
    }
    for (const [key, delta] of deltas) {
      const part = partKey(own, key)
      parts.set(part, finite(parts.get(part)) + delta)
    }
    // Only the newest `limit` of this batch can survive the trim anyway.
    list.push(clean.slice(-Math.max(0, limit)))
    const excess = list.length - Math.max(0, limit)
    if (excess > 0) list.delete(0, excess)
  })
  return clean.length
}

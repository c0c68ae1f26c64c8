import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  ACTIVITY_EVENTS_LIMIT,
  activityRoot,
  applyActivityEvents,
  counterKey,
  getCounter,
  getCounters,
  LIMITS,
  parseActivityEvent,
  projectActivity,
  type ActivityEvent,
} from '../src/index.ts'

describe('activity', () => {
  it('increments counters and appends events, newest last', () => {
    const doc = new Y.Doc()
    const events: ActivityEvent[] = [
      { type: 'user_started', at: 1 },
      { type: 'scenario_entered', at: 2, scenarioId: 'onboarding' },
      { type: 'step_reached', at: 3, scenarioId: 'onboarding', stepId: 'welcome' },
      { type: 'button_pressed', at: 4, buttonId: 'start' },
      { type: 'button_pressed', at: 5, buttonId: 'start' },
      { type: 'input_rejected', at: 6, scenarioId: 'onboarding', stepId: 'ask_name' },
    ]
    expect(applyActivityEvents(doc, events)).toBe(6)
    expect(applyActivityEvents(doc, [{ type: 'button_pressed', at: 7, buttonId: 'start' }])).toBe(1)
    const json = projectActivity(doc)
    expect(json.counters).toEqual({
      'users:started': 1,
      'scenario:onboarding:entered': 1,
      'step:onboarding/welcome:reached': 1,
      'button:start:pressed': 3,
      'input:rejected': 1,
    })
    expect(json.events.map((e) => e.at)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(getCounter(doc, counterKey.buttonPressed('start'))).toBe(3)
    expect(getCounter(doc, counterKey.buttonPressed('nope'))).toBe(0)
  })

  it("keeps a reported step's title for people, cut to a title's length, and drops one that is not text", () => {
    const at = 1
    expect(parseActivityEvent({ type: 'step_reached', at, scenarioId: 'onboarding', stepId: 'welcome', stepTitle: ' Greeting ' })).toEqual({
      type: 'step_reached',
      at,
      scenarioId: 'onboarding',
      stepId: 'welcome',
      stepTitle: 'Greeting',
    })
    const long = parseActivityEvent({ type: 'input_rejected', at, scenarioId: 'onboarding', stepId: 'ask', stepTitle: '👍'.repeat(LIMITS.stepTitle + 5) })
    expect(long).toMatchObject({ stepTitle: '👍'.repeat(LIMITS.stepTitle) })
    expect(parseActivityEvent({ type: 'step_reached', at, scenarioId: 'onboarding', stepId: 'welcome', stepTitle: 42 })).not.toHaveProperty('stepTitle')
    expect(parseActivityEvent({ type: 'button_pressed', at, buttonId: 'start', stepTitle: 'x' })).not.toHaveProperty('stepTitle')
  })

  it('keeps only the newest 100 events while counting all', () => {
    const doc = new Y.Doc()
    const batch = (from: number, n: number): ActivityEvent[] => Array.from({ length: n }, (_, i) => ({ type: 'user_started' as const, at: from + i }))
    applyActivityEvents(doc, batch(0, 70))
    applyActivityEvents(doc, batch(70, 80))
    const json = projectActivity(doc)
    expect(json.events).toHaveLength(ACTIVITY_EVENTS_LIMIT)
    expect(json.events[0].at).toBe(50)
    expect(json.events.at(-1)!.at).toBe(149)
    expect(json.counters['users:started']).toBe(150)
    applyActivityEvents(doc, batch(1000, 250))
    expect(projectActivity(doc).events.map((e) => e.at)).toEqual(Array.from({ length: 100 }, (_, i) => 1150 + i))
  })

  it('skips malformed events and strips unknown fields', () => {
    const doc = new Y.Doc()
    const applied = applyActivityEvents(doc, [
      null,
      { type: 'nope', at: 1 },
      { type: 'user_started' },
      { type: 'button_pressed', at: 1, buttonId: 'a/b' },
      { type: 'scenario_entered', at: 1 },
      { type: 'button_pressed', at: 2, buttonId: 'ok', secret: 'x' },
    ])
    expect(applied).toBe(1)
    expect(projectActivity(doc).events).toEqual([{ type: 'button_pressed', at: 2, buttonId: 'ok' }])
  })

  it('applies a batch as one update', () => {
    const doc = new Y.Doc()
    let updates = 0
    doc.on('update', () => updates++)
    applyActivityEvents(doc, [
      { type: 'user_started', at: 1 },
      { type: 'user_started', at: 2 },
    ])
    expect(updates).toBe(1)
    expect(applyActivityEvents(doc, [])).toBe(0)
    expect(updates).toBe(1)
  })

  it('projects an empty document to empty activity', () => {
    expect(projectActivity(new Y.Doc())).toEqual({ counters: {}, events: [] })
  })

  it('counts exactly when two writers increment the same counter concurrently (one part each, summed)', () => {
    const base = new Y.Doc()
    applyActivityEvents(base, [{ type: 'user_started', at: 0 }], { writer: 'a' })
    const a = new Y.Doc()
    const b = new Y.Doc()
    Y.applyUpdate(a, Y.encodeStateAsUpdate(base))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(base))
    for (let i = 0; i < 5; i++) applyActivityEvents(a, [{ type: 'user_started', at: i }], { writer: 'a' })
    for (let i = 0; i < 7; i++) applyActivityEvents(b, [{ type: 'user_started', at: i }], { writer: 'b' })
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect(getCounter(a, counterKey.usersStarted)).toBe(13)
    expect(projectActivity(b).counters[counterKey.usersStarted]).toBe(13)
  })

  it('reads a document with old single counters as old value + parts, and never rewrites the old value', () => {
    const doc = new Y.Doc()
    // What the server wrote before per-writer parts.
    doc.transact(() => {
      const counters = new Y.Map<number>()
      activityRoot(doc).set('counters', counters)
      activityRoot(doc).set('events', new Y.Array())
      counters.set(counterKey.usersStarted, 40)
      counters.set(counterKey.buttonPressed('start'), 3)
    })
    expect(projectActivity(doc).counters).toEqual({ [counterKey.usersStarted]: 40, [counterKey.buttonPressed('start')]: 3 })
    applyActivityEvents(
      doc,
      [
        { type: 'user_started', at: 1 },
        { type: 'user_started', at: 2 },
      ],
      { writer: 'server-1' },
    )
    applyActivityEvents(doc, [{ type: 'button_pressed', at: 3, buttonId: 'start' }], { writer: 'server-2' })
    expect(projectActivity(doc).counters).toEqual({ [counterKey.usersStarted]: 42, [counterKey.buttonPressed('start')]: 4 })
    expect(getCounter(doc, counterKey.usersStarted)).toBe(42)
    expect(getCounters(doc)!.get(counterKey.usersStarted)).toBe(40)
  })
})

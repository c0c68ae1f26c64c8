import { applyActivityEvents, getSettingsText, projectButtons, projectSettings } from '@botsync/shared-docs'
import { flushSync } from 'svelte'
import { describe, expect, it } from 'vitest'
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import type { OpenDocument } from '../src/lib/connection/open-document.ts'
import { ActivityState, describeEvent, summarizeCounters } from '../src/lib/activity/activity-state.svelte.ts'
import { ButtonsState } from '../src/lib/buttons/buttons-state.svelte.ts'
import { SettingsState } from '../src/lib/settings/settings-state.svelte.ts'
import { LocalSource } from './local-source.ts'

describe('ButtonsState', () => {
  it('creates, edits and removes buttons, refusing bad or taken ids', () => {
    const source = LocalSource.seeded('demo')
    const page = new ButtonsState(source, 'demo')
    expect(page.create({ id: 'has space', text: 'x', type: 'end' })).toEqual({ error: 'An id is 1–32 characters of A–Z, a–z, 0–9, _ and -.' })
    expect(page.create({ id: 'start', text: 'x', type: 'end' })).toEqual({ error: 'A button "start" already exists.' })
    expect(page.create({ id: 'order', text: ' Order ', type: 'callback' })).toEqual({ id: 'order' })
    expect(projectButtons(source.document('demo/buttons').doc).order).toEqual({ id: 'order', text: 'Order', action: { type: 'callback', data: '' } })

    page.setText('order', 'Order status')
    page.setAction('order', { type: 'url', url: 'https://example.com/orders' })
    expect(page.buttons.find((button) => button.id === 'order')).toEqual({
      id: 'order',
      text: 'Order status',
      action: { type: 'url', url: 'https://example.com/orders' },
    })
    page.remove('order')
    expect(page.buttons.some((button) => button.id === 'order')).toBe(false)
  })

  it('validates callback data and goto targets once their scenarios are open', () => {
    const source = LocalSource.seeded('demo')
    const page = new ButtonsState(source, 'demo')
    page.create({ id: 'cb', text: 'Callback', type: 'callback' })
    page.setAction('cb', { type: 'callback', data: 'é'.repeat(33) }) // 66 bytes
    expect(page.problems.under('buttons', ['buttons', 'cb', 'action']).map((p) => p.message)).toEqual(['Callback data is 66 bytes; Telegram allows at most 64.'])

    page.setAction('sup_billing', { type: 'goto', scenarioId: 'support', stepId: 'gone' })
    // Without the support scenario's content, the step cannot be judged.
    expect(page.problems.under('buttons', ['buttons', 'sup_billing'])).toEqual([])
    page.syncTargets(page.scenarios.map((scenario) => scenario.id))
    expect(page.stepsOf('support')).toEqual(['topic', 'contact'])
    expect(page.problems.under('buttons', ['buttons', 'sup_billing']).map((p) => p.code)).toEqual(['goto-step-missing'])
    page.syncTargets([])
    expect(source.released.filter((name) => name.startsWith('demo/scenario/')).sort()).toEqual(['demo/scenario/onboarding', 'demo/scenario/support'])
  })
})

describe('SettingsState', () => {
  it('edits texts, flags and the main menu, and validates them', () => {
    const source = LocalSource.seeded('demo')
    const page = new SettingsState(source, 'demo')
    expect(page.textKeys).toEqual(['welcome', 'fallback', 'maintenance', 'inputInvalid'])
    expect(page.problems.count).toBe(0)

    page.setText('welcome', '   ')
    page.setFlag('botEnabled', false)
    page.setMainMenu([['start', 'missing_button']])
    const settings = projectSettings(source.document('demo/settings').doc)
    expect(settings.flags.botEnabled).toBe(false)
    expect(settings.mainMenu).toEqual([['start', 'missing_button']])
    expect(page.text('welcome')).toBe(getSettingsText(source.document('demo/settings').doc, 'welcome'))
    expect(page.problems.all.map((p) => p.code).sort()).toEqual(['keyboard-button-missing', 'message-empty'])

    expect(page.isTextPublic('welcome')).toBe(false)
    page.setTextPublic('welcome', true)
    expect(page.isTextPublic('welcome')).toBe(true)
    expect(projectSettings(source.document('demo/settings').doc).publicTexts).toEqual(['welcome'])
    page.setTextPublic('welcome', false)
    expect(projectSettings(source.document('demo/settings').doc).publicTexts).toEqual([])
  })
})

describe('ActivityState', () => {
  it('announces events that arrive after the first sync, not what was there before', () => {
    const source = LocalSource.seeded('demo')
    const activityDoc = source.document('demo/activity')
    const server = new Y.Doc()
    Y.applyUpdate(server, Y.encodeStateAsUpdate(activityDoc.doc))
    const sync = () => Y.applyUpdate(activityDoc.doc, Y.encodeStateAsUpdate(server, Y.encodeStateVector(activityDoc.doc)), 'provider')

    activityDoc.serverSynced = false
    const announced: string[] = []
    const state = new ActivityState(source, 'demo', {
      onNewEvents: (events, names) => announced.push(...events.map((event) => describeEvent(event, names))),
    })
    applyActivityEvents(server, [{ type: 'user_started', at: 1 }])
    sync() // the first sync brings old events: no toast
    activityDoc.serverSynced = true
    applyActivityEvents(server, [
      { type: 'button_pressed', at: 2, buttonId: 'start' },
      { type: 'scenario_entered', at: 3, scenarioId: 'onboarding' },
    ])
    sync()
    expect(announced).toEqual(['A user pressed “Get started”', 'A user entered “Onboarding”'])
    expect(state.recent.map((event) => event.at)).toEqual([3, 2, 1])
    expect(summarizeCounters(state.current.counters, state.names).totals).toEqual([
      { key: 'users:started', label: 'Users started', value: 1 },
      { key: 'scenarios:entered', label: 'Scenarios entered', value: 1 },
      { key: 'buttons:pressed', label: 'Buttons pressed', value: 1 },
      { key: 'input:rejected', label: 'Answers rejected', value: 0 },
    ])
    state.destroy()
  })

  it('names an event that arrives before the buttons have loaded once they have (a fresh device)', () => {
    const source = LocalSource.seeded('demo')
    const seededButtons = source.document('demo/buttons').doc
    // The buttons document of a device that has never had it: empty, and not loaded yet.
    const buttons = new LoadingDocument('demo/buttons')
    source.documents.set('demo/buttons', buttons)
    const announced: string[] = []
    const state = new ActivityState(source, 'demo', {
      onNewEvents: (events, names) => announced.push(...events.map((event) => describeEvent(event, names))),
    })
    const activityDoc = source.document('demo/activity').doc
    const server = new Y.Doc()
    Y.applyUpdate(server, Y.encodeStateAsUpdate(activityDoc))
    applyActivityEvents(server, [{ type: 'button_pressed', at: 1, buttonId: 'start' }])
    Y.applyUpdate(activityDoc, Y.encodeStateAsUpdate(server, Y.encodeStateVector(activityDoc)), 'provider')
    flushSync()
    expect(announced).toEqual([])
    Y.applyUpdate(buttons.doc, Y.encodeStateAsUpdate(seededButtons), 'provider')
    buttons.loaded = true
    flushSync()
    expect(announced).toEqual(['A user pressed “Get started”'])
    state.destroy()
  })
})

describe('describeEvent', () => {
  it('names steps, scenarios and buttons as people know them, never by id', () => {
    const names = { scenarios: { onboarding: { id: 'onboarding', title: 'Onboarding', enabled: true, public: false, trigger: {}, order: 0 } }, buttons: {} }
    expect(describeEvent({ type: 'step_reached', at: 1, scenarioId: 'onboarding', stepId: 'fkXJQoJj-X', stepTitle: 'Ask the name' }, names)).toBe(
      'A user reached “Ask the name” in “Onboarding”',
    )
    // Older events carry no title; deleted things are said to be deleted.
    expect(describeEvent({ type: 'input_rejected', at: 1, scenarioId: 'gone', stepId: 'fkXJQoJj-X' }, names)).toBe('An answer was rejected at a step in a deleted scenario')
    expect(describeEvent({ type: 'button_pressed', at: 1, buttonId: 'b_gone' }, names)).toBe('A user pressed a deleted button')
  })
})

/** A document whose `loaded` turns true later, as a DocumentHandle's does after its first sync. */
class LoadingDocument implements OpenDocument {
  readonly name: string
  readonly doc = new Y.Doc()
  readonly awareness = new Awareness(this.doc)
  readonly readOnly = false
  readonly serverSynced = false
  readonly ready = Promise.resolve()
  loaded = $state(false)

  constructor(name: string) {
    this.name = name
  }
}

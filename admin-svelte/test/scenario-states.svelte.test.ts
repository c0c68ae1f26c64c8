import { getStepMessage, listTrash, projectButtons, projectScenario, projectScenarios, projectSettings } from '@botsync/shared-docs'
import { flushSync } from 'svelte'
import { describe, expect, it } from 'vitest'
import { ScenarioEditorState } from '../src/lib/scenarios/scenario-editor-state.svelte.ts'
import { ScenarioListState } from '../src/lib/scenarios/scenario-list-state.svelte.ts'
import { LocalSource } from './local-source.ts'

describe('ScenarioEditorState', () => {
  it('edits steps through the accessors and projects them in order', () => {
    const source = LocalSource.seeded('demo')
    const editor = new ScenarioEditorState(source, 'demo', 'onboarding')
    expect(editor.loaded).toBe(true)
    expect(editor.steps.map((step) => step.id)).toEqual(['welcome', 'ask_name', 'finish'])
    expect(editor.entry?.title).toBe('Onboarding')

    const added = editor.addStep('welcome')!
    expect(editor.steps.map((step) => step.id)).toEqual(['welcome', added, 'ask_name', 'finish'])
    editor.moveStep(added, 1)
    expect(editor.steps.map((step) => step.id)).toEqual(['welcome', 'ask_name', added, 'finish'])
    editor.setMessage(added, 'Where do you live?')
    editor.setInput(added, { var: 'city', kind: 'text' })
    editor.setNext('ask_name', added)
    editor.setKeyboardRows(added, [['back']])
    editor.setKeyboardKind(added, 'reply')
    editor.setEntryStep(added)
    const stored = projectScenario(source.document('demo/scenario/onboarding').doc)
    expect(stored.entryStepId).toBe(added)
    expect(stored.steps[added]).toEqual({
      id: added,
      message: 'Where do you live?',
      keyboard: { kind: 'reply', rows: [['back']] },
      input: { var: 'city', kind: 'text' },
      next: null,
    })
    expect(stored.steps.ask_name.next).toBe(added)
    // Named by its first words until someone names it; never by its id.
    expect(editor.stepLabel(added)).toBe('“Where do you live?”')
    editor.setTitle(added, ' City ')
    expect(projectScenario(source.document('demo/scenario/onboarding').doc).steps[added].title).toBe('City')
    expect(editor.stepTitles[added]).toBe('City')
    expect(editor.stepLabel(added)).toBe('“City”')
    editor.setTitle(added, '')
    expect(projectScenario(source.document('demo/scenario/onboarding').doc).steps[added]).not.toHaveProperty('title')

    editor.rename('Welcome flow')
    editor.setTrigger('command', 'hello')
    editor.setEnabled(false)
    expect(projectScenarios(source.document('demo/scenarios').doc).onboarding).toMatchObject({
      title: 'Welcome flow',
      enabled: false,
      trigger: { command: 'hello', deepLink: 'onboarding' },
    })

    editor.removeStep(added)
    expect(editor.steps.map((step) => step.id)).toEqual(['welcome', 'ask_name', 'finish'])
    editor.destroy()
    expect(source.released.sort()).toEqual(['demo/buttons', 'demo/scenario/onboarding', 'demo/scenarios', 'demo/settings'])
  })

  it('reports validation problems of this scenario only, and updates them live', () => {
    const source = LocalSource.seeded('demo')
    const editor = new ScenarioEditorState(source, 'demo', 'onboarding')
    let count = -1
    const stop = $effect.root(() => {
      $effect(() => {
        count = editor.problems.count
      })
    })
    flushSync()
    expect(count).toBe(0)

    editor.setMessage('welcome', 'x'.repeat(5000))
    editor.setKeyboardRows('finish', [['support', 'nope']])
    editor.setTrigger('command', 'Not A Command')
    flushSync()
    expect(count).toBe(3)
    const doc = editor.problemDocument
    expect(editor.problems.under(doc, ['scenario', 'steps', 'welcome', 'message']).map((p) => p.code)).toEqual(['message-too-long'])
    expect(editor.problems.under(doc, ['scenario', 'steps', 'finish', 'keyboard', 'rows', '0']).map((p) => p.code)).toEqual(['keyboard-button-missing'])
    expect(editor.problems.under('scenarios', ['scenarios', 'onboarding', 'trigger', 'command']).map((p) => p.code)).toEqual(['command-invalid'])

    // Another scenario's broken trigger is not this page's problem.
    const other = new ScenarioEditorState(source, 'demo', 'support')
    expect(other.problems.count).toBe(0)
    stop()
  })

  it('changes nothing when the document is read-only', () => {
    const source = LocalSource.seeded('demo')
    for (const document of source.documents.values()) document.readOnly = true
    const editor = new ScenarioEditorState(source, 'demo', 'onboarding')
    expect(editor.readOnly).toBe(true)
    editor.setMessage('welcome', 'changed')
    expect(editor.addStep()).toBeNull()
    editor.removeStep('finish')
    expect(getStepMessage(source.document('demo/scenario/onboarding').doc, 'welcome')!.toString()).toBe("Hi! Let's get you set up. It takes less than a minute.")
    expect(editor.steps).toHaveLength(3)
  })
})

describe('ScenarioListState', () => {
  it('deletes a scenario into the trash, sending the buttons that went to it elsewhere or deleting them from every keyboard, as one undo step', () => {
    const source = LocalSource.seeded('demo')
    const list = new ScenarioListState(source, 'demo')
    const buttons = () => projectButtons(source.document('demo/buttons').doc)
    expect(list.referencesTo('support').map((reference) => reference.kind === 'button' && reference.buttonId)).toEqual(['sup_billing', 'sup_tech', 'support'])

    list.remove('support', 'onboarding')
    expect(list.scenarios.map((entry) => entry.id)).toEqual(['onboarding'])
    expect(buttons().sup_billing.action).toEqual({ type: 'goto', scenarioId: 'onboarding' })
    expect(list.trash.map((item) => item.id)).toEqual(['support'])
    expect(list.undo.undo()).toBe(true)
    expect(buttons().sup_billing.action).toEqual({ type: 'goto', scenarioId: 'support', stepId: 'contact' })
    expect(list.trash).toEqual([])

    // Removing the links: the buttons go to the trash too, after leaving the keyboards and the main menu.
    list.prepareDelete(true)
    expect(list.deleteReady).toBe(true)
    list.remove('support')
    expect(buttons().support).toBeUndefined()
    expect(
      listTrash(source.document('demo/buttons').doc)
        .map((item) => item.id)
        .sort(),
    ).toEqual(['sup_billing', 'sup_tech', 'support'])
    expect(projectScenario(source.document('demo/scenario/onboarding').doc).steps.finish.keyboard.rows).toEqual([['website']])
    expect(projectSettings(source.document('demo/settings').doc).mainMenu).toEqual([['start'], ['website']])
    list.prepareDelete(false)

    expect(list.restore('support')).toBe('support')
    expect(list.scenarios.map((entry) => entry.id)).toEqual(['onboarding', 'support'])
    expect(projectScenario(source.document('demo/scenario/support').doc).stepOrder).toEqual(['topic', 'contact'])
    list.destroy()
  })

  it('creates a scenario in both documents, reorders, renames, toggles and removes', async () => {
    const source = LocalSource.seeded('demo')
    const list = new ScenarioListState(source, 'demo')
    expect(list.scenarios.map((entry) => entry.id)).toEqual(['onboarding', 'support'])

    const id = (await list.create('  Order status '))!
    expect(list.scenarios.map((entry) => entry.title)).toEqual(['Onboarding', 'Support', 'Order status'])
    const content = projectScenario(source.document(`demo/scenario/${id}`).doc)
    expect(content.stepOrder).toHaveLength(1)
    expect(content.entryStepId).toBe(content.stepOrder[0])
    expect(list.scenarios[2].enabled).toBe(false)
    // The new content document is released right away; the session keeps it until saved.
    expect(source.released).toContain(`demo/scenario/${id}`)

    list.move(id, -1)
    expect(list.scenarios.map((entry) => entry.id)).toEqual(['onboarding', id, 'support'])
    list.move('onboarding', -1) // already first: nothing happens
    expect(list.scenarios[0].id).toBe('onboarding')
    list.rename(id, 'Orders')
    list.setEnabled(id, true)
    expect(list.scenarios[1]).toMatchObject({ title: 'Orders', enabled: true, public: false })
    list.setPublic(id, true)
    expect(list.scenarios[1].public).toBe(true)
    expect(projectScenarios(source.document('demo/scenarios').doc)[id].public).toBe(true)
    list.setPublic(id, false)
    expect(list.scenarios[1].public).toBe(false)

    list.remove('support')
    expect(list.scenarios.map((entry) => entry.id)).toEqual(['onboarding', id])
    list.undo.undo()
    expect(list.scenarios.map((entry) => entry.id)).toEqual(['onboarding', id, 'support'])
  })

  it('reports duplicate triggers among enabled scenarios', () => {
    const source = LocalSource.seeded('demo')
    const editor = new ScenarioEditorState(source, 'demo', 'support')
    editor.setTrigger('command', 'onboarding')
    const list = new ScenarioListState(source, 'demo')
    expect(list.problems.under('scenarios', ['scenarios', 'support']).map((p) => p.code)).toEqual(['trigger-duplicate'])
  })
})

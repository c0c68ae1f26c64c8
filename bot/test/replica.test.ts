import { writeFileSync } from 'node:fs'
import { addScenarioEntry, createScenario, docName, getSettingsText, removeScenario, setSettingsText, setStepMessage } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SimUser } from '@botsync/testkit/fake-bot-api'
import { Scene, waitFor } from './helpers.ts'

const alice: SimUser = { id: 2001, first_name: 'Alice' }
const WELCOME = 'Welcome to the botsync demo bot! Pick an option below.'

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

function welcomeOf(doc: Y.Doc | undefined): string | undefined {
  return doc ? getSettingsText(doc, 'welcome')?.toString() : undefined
}

describe('the replica', () => {
  it('answers from its saved copy while the server is down, and catches up when it is back', async () => {
    scene = await Scene.start()
    const editor = await scene.admin('settings')
    setSettingsText(editor.doc, 'welcome', 'Saved before the outage')
    await waitFor(() => welcomeOf(scene.bot!.replica.settings) === 'Saved before the outage', 'the replica to get the edit')
    await scene.stopBot() // saves the replica file

    await scene.stopServer()
    const bot = await scene.startBot() // nothing to sync with: only the file
    expect(bot.replica.connected).toBe(false)
    const offline = await scene.reply(alice, () => scene.api.sendCommand(alice, 'start'))
    expect(offline.message!.text).toBe('Saved before the outage')
    expect(offline.message!.reply_markup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['Get started', 'Support', 'Website'])

    await scene.restartServer()
    const second = await scene.admin('settings')
    setSettingsText(second.doc, 'welcome', 'Written after the outage')
    await waitFor(() => welcomeOf(bot.replica.settings) === 'Written after the outage', 'the bot to catch up', 20_000)
    expect(bot.replica.connected).toBe(true)
    const online = await scene.reply(alice, () => scene.api.sendCommand(alice, 'start'))
    expect(online.message!.text).toBe('Written after the outage')
  })

  it('a bot restart keeps a user mid-scenario at the same step', async () => {
    scene = await Scene.start()
    const { api } = scene
    const intro = await scene.reply(alice, () => api.sendCommand(alice, 'start', 'onboarding'))
    const question = await scene.reply(alice, () => api.clickButton(alice, intro, 'b:ob_continue'))
    expect(question.message!.text).toBe('What should I call you?')

    await scene.stopBot()
    await scene.startBot()
    const finish = await scene.reply(alice, () => api.sendText(alice, 'Bob'))
    expect(finish.message!.text).toBe('Nice to meet you, Bob! You are all set.')
  })

  it('cannot write: a local change is refused by the server, reaches nobody, and the copy is rebuilt', async () => {
    scene = await Scene.start()
    const name = docName.settings(scene.space)
    const other = await scene.admin('settings')
    const refusedBefore = scene.server.metrics.refusedWrites

    setSettingsText(scene.bot!.replica.settings, 'welcome', 'Written by the bot')

    await waitFor(() => scene.logged('replica-write-refused').length === 1, 'the server to refuse the change')
    expect(scene.server.metrics.refusedWrites).toBe(refusedBefore + 1)
    expect(scene.logged('replica-local-write')).toEqual([expect.objectContaining({ document: name, level: 50 })])
    // Not in the server's document, not in the database.
    expect(welcomeOf(scene.server.server.hocuspocus.documents.get(name))).toBe(WELCOME)
    const stored = new Y.Doc()
    Y.applyUpdate(stored, (await scene.server.store.load(name)).state!)
    expect(welcomeOf(stored)).toBe(WELCOME)
    // Another client's own edit comes back acknowledged after anything the
    // server would have broadcast before it: the bot's change never arrives.
    setSettingsText(other.doc, 'fallback', 'Edited by an admin')
    await waitFor(() => other.provider.unsyncedChanges === 0, 'the admin edit to be saved')
    expect(welcomeOf(other.doc)).toBe(WELCOME)
    // The bot's copy is rebuilt from the server and answers with what is saved.
    await waitFor(() => welcomeOf(scene.bot!.replica.settings) === WELCOME, 'the replica to be rebuilt')
    await waitFor(() => getSettingsText(scene.bot!.replica.settings, 'fallback')?.toString() === 'Edited by an admin', 'the rebuilt replica to stay live')
    const answer = await scene.reply(alice, () => scene.api.sendCommand(alice, 'start'))
    expect(answer.message!.text).toBe(WELCOME)
  })

  it('opens the documents of scenarios added to the index and closes those removed', async () => {
    scene = await Scene.start()
    const replica = scene.bot!.replica
    const scenarioName = docName.scenario(scene.space, 'faq')
    expect(replica.documentNames()).not.toContain(scenarioName)

    const index = await scene.admin('scenarios')
    const content = await scene.admin('scenario/faq')
    createScenario(index.doc, content.doc, {
      id: 'faq',
      title: 'FAQ',
      enabled: true,
      trigger: { command: 'faq' },
      firstStep: { id: 'q1', message: 'Frequently asked: is it live? Yes.' },
    })
    await waitFor(() => replica.documentNames().includes(scenarioName), 'the bot to open the new scenario')
    const answer = await scene.reply(alice, () => scene.api.sendCommand(alice, 'faq'))
    expect(answer.message!.text).toBe('Frequently asked: is it live? Yes.')

    removeScenario(index.doc, 'faq')
    await waitFor(() => !replica.documentNames().includes(scenarioName), 'the bot to close the removed scenario')
    const gone = await scene.reply(alice, () => scene.api.sendCommand(alice, 'faq'))
    expect(gone.message!.text).toBe("Sorry, I didn't get that. Send /start to see the menu.")

    // Restored a moment after being removed (an undo): the bot closes and
    // reopens the same document at once and still follows it live.
    addScenarioEntry(index.doc, 'faq', { title: 'FAQ', enabled: true, trigger: { command: 'faq' } })
    removeScenario(index.doc, 'faq')
    addScenarioEntry(index.doc, 'faq', { title: 'FAQ', enabled: true, trigger: { command: 'faq' } })
    await waitFor(() => replica.documentNames().includes(scenarioName), 'the bot to reopen the scenario')
    setStepMessage(content.doc, 'q1', 'Still live after the undo.')
    await waitFor(() => replica.document(scenarioName)?.getMap('scenario').toJSON().steps?.q1?.message === 'Still live after the undo.', 'the reopened document to stay live')
    const back = await scene.reply(alice, () => scene.api.sendCommand(alice, 'faq'))
    expect(back.message!.text).toBe('Still live after the undo.')
  })

  it('an unreadable replica file is reported and the content comes from the server', async () => {
    scene = await Scene.start({ withoutBot: true })
    writeFileSync(scene.replicaFile, '{ this is not json')
    await scene.startBot()
    expect(scene.logged('replica-file-unreadable')).toHaveLength(1)
    const answer = await scene.reply(alice, () => scene.api.sendCommand(alice, 'start'))
    expect(answer.message!.text).toBe(WELCOME)
  })
})

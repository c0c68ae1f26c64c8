// Formatted content reaches Telegram as entities: the step's Y.Text
// attributes → the projection's entities → fillMessage (variables) →
// sendMessage's `entities`, checked by the fake Bot API as Telegram would.
import { getStepMessage, projectSpace, setSettingsText, setStepMessage, type MessageEntity } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import type { RecordedCall, SimUser } from '@botsync/testkit/fake-bot-api'
import { draftsOf, publishReleaseForTest, setPublishModeForTest } from '@botsync/testkit/publish'
import { Scene, waitFor } from './helpers.ts'

const alice: SimUser = { id: 3001, first_name: 'Alice' }

/** UTF-16 code units counted without String#length or string indices. */
const u16 = (s: string): number => Buffer.from(s, 'utf16le').length / 2
const covered = (text: string, e: MessageEntity) => text.slice(e.offset, e.offset + e.length)

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

/** Through onboarding to its last step, answering `name`; returns that step's message. */
async function finishOnboarding(name: string): Promise<RecordedCall> {
  const { api } = scene
  const intro = await scene.reply(alice, () => api.sendCommand(alice, 'start', 'onboarding'))
  await scene.reply(alice, () => api.clickButton(alice, intro, 'b:ob_continue'))
  return scene.reply(alice, () => api.sendText(alice, name))
}

describe('formatted messages', () => {
  it("a formatted step's sendMessage carries its entities, moved by a variable with emoji", async () => {
    scene = await Scene.start()
    const template = '🎉 Nice to meet you, {name}! You are all set. Docs'
    const before = (s: string) => template.slice(0, template.indexOf(s))
    const entities: MessageEntity[] = [
      { type: 'bold', offset: u16(before('{name}')), length: u16('{name}') },
      { type: 'italic', offset: u16(before('all set')), length: u16('all set') },
      { type: 'text_link', offset: u16(before('Docs')), length: u16('Docs'), url: 'https://example.com/docs' },
    ]
    const onboarding = await scene.admin('scenario/onboarding')
    setStepMessage(onboarding.doc, 'finish', template, entities)
    await waitFor(() => projectSpace(scene.bot!.replica.docs()).scenarioDocs.onboarding.steps.finish.entities?.length === 3, 'the formatting to reach the bot')

    const name = 'Zoë 👩🏽‍💻'
    const finish = await finishOnboarding(name)
    const text = `🎉 Nice to meet you, ${name}! You are all set. Docs`
    expect(finish.method).toBe('sendMessage')
    expect(finish.params).not.toHaveProperty('parse_mode')
    const shift = u16(name) - u16('{name}')
    const expected = [
      { type: 'bold', offset: u16('🎉 Nice to meet you, '), length: u16(name) },
      { type: 'italic', offset: entities[1].offset + shift, length: u16('all set') },
      { type: 'text_link', offset: entities[2].offset + shift, length: 4, url: 'https://example.com/docs' },
    ]
    expect(finish.params.entities).toEqual(expected)
    expect(finish.message!.text).toBe(text)
    expect(finish.message!.entities).toEqual(expected)
    expect(expected.map((e) => covered(text, e as MessageEntity))).toEqual([name, 'all set', 'Docs'])
  })

  it('settings texts go formatted; a link Telegram would refuse is left out and the message still goes', async () => {
    scene = await Scene.start()
    const { api } = scene
    const settings = await scene.admin('settings')
    setSettingsText(settings.doc, 'welcome', 'Привет! Pick one 👇', [{ type: 'bold', offset: 0, length: 6 }])
    const onboarding = await scene.admin('scenario/onboarding')
    const finish = getStepMessage(onboarding.doc, 'finish')!
    onboarding.doc.transact(() => {
      finish.format(0, 4, { text_link: 'javascript:alert(1)' })
      finish.format(5, 2, { underline: true })
      getStepMessage(onboarding.doc, 'welcome')!.format(0, 3, { strikethrough: true })
    })
    await waitFor(() => {
      const space = projectSpace(scene.bot!.replica.docs())
      const steps = space.scenarioDocs.onboarding.steps
      return space.settings.textEntities?.welcome !== undefined && steps.finish.entities?.length === 2 && steps.welcome.entities !== undefined
    }, 'the formatting to reach the bot')

    const welcome = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(welcome.params.entities).toEqual([{ type: 'bold', offset: 0, length: 6 }])
    expect(covered(welcome.message!.text!, welcome.message!.entities![0] as MessageEntity)).toBe('Привет')
    // A button of that message edits it: editMessageText carries the step's entities.
    const intro = await scene.reply(alice, () => api.clickButton(alice, welcome, 'b:start'))
    expect(intro.method).toBe('editMessageText')
    expect(intro.params.entities).toEqual([{ type: 'strikethrough', offset: 0, length: 3 }])
    expect(intro.message!.entities).toEqual([{ type: 'strikethrough', offset: 0, length: 3 }])

    const sent = await finishOnboarding('Al')
    expect(sent.message!.text).toBe('Nice to meet you, Al! You are all set.')
    expect(sent.params.entities).toEqual([{ type: 'underline', offset: 5, length: 2 }])
  })

  it('in review mode the released formatting is what goes out', async () => {
    scene = await Scene.start()
    const { api, server, space } = scene
    const release = await draftsOf(server, space)
    release.settings.texts.welcome = 'Released ✅ welcome'
    release.settings.textEntities = { welcome: [{ type: 'spoiler', offset: 11, length: 7 }] }
    await publishReleaseForTest(server, space, release)
    await setPublishModeForTest(server, space, 'review')
    const settings = await scene.admin('settings')
    setSettingsText(settings.doc, 'welcome', 'Draft welcome', [{ type: 'bold', offset: 0, length: 5 }])
    await waitFor(() => projectSpace(scene.bot!.replica.docs()).settings.textEntities?.welcome !== undefined, 'the draft to reach the bot')
    const welcome = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(welcome.message!.text).toBe('Released ✅ welcome')
    expect(welcome.params.entities).toEqual([{ type: 'spoiler', offset: 11, length: 7 }])
    expect(covered(welcome.message!.text!, welcome.message!.entities![0] as MessageEntity)).toBe('welcome')
  })
})

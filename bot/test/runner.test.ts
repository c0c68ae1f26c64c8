import {
  getButton,
  getSettingsText,
  projectActivity,
  projectSpace,
  removeButton,
  removeStep,
  setButton,
  setButtonText,
  setFlag,
  setKeyboard,
  setMainMenu,
  setSettingsText,
} from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import type { SimUser } from '@botsync/testkit/fake-bot-api'
import { Scene, buttonsOf, waitFor } from './helpers.ts'

const alice: SimUser = { id: 1001, first_name: 'Alice' }
const bob: SimUser = { id: 1002, first_name: 'Bob' }

const WELCOME = 'Welcome to the botsync demo bot! Pick an option below.'
const MAIN_MENU = [
  [['Get started', 'b:start']],
  [
    ['Support', 'b:support'],
    ['Website', 'https://example.com'],
  ],
]

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

describe('the bot answers from the demo content', () => {
  it('/start shows the welcome text and the main menu; onboarding rejects an invalid answer, then takes a valid one', async () => {
    scene = await Scene.start()
    const { api } = scene
    const welcome = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(welcome.method).toBe('sendMessage')
    expect(welcome.message!.text).toBe(WELCOME)
    expect(buttonsOf(welcome)).toEqual(MAIN_MENU)

    const intro = await scene.reply(alice, () => api.clickButton(alice, welcome, 'b:start'))
    expect(intro.method).toBe('editMessageText')
    expect(intro.message!.text).toBe("Hi! Let's get you set up. It takes less than a minute.")
    expect(buttonsOf(intro)).toEqual([[["Let's go", 'b:ob_continue']], [['Maybe later', 'b:ob_later']]])

    const question = await scene.reply(alice, () => api.clickButton(alice, intro, 'b:ob_continue'))
    expect(question.message!.text).toBe('What should I call you?')
    expect(question.message!.reply_markup).toBeUndefined()

    // A wall of text is not a name.
    const rejected = await scene.reply(alice, () => api.sendText(alice, 'x'.repeat(1001)))
    expect(rejected.message!.text).toBe("That doesn't look right. Please try again.")

    const finish = await scene.reply(alice, () => api.sendText(alice, '  Alice  '))
    expect(finish.message!.text).toBe('Nice to meet you, Alice! You are all set.')
    expect(buttonsOf(finish)).toEqual([
      [
        ['Support', 'b:support'],
        ['Website', 'https://example.com'],
      ],
    ])
    expect(api.unansweredCallbackQueries()).toEqual([])
  })

  it('starts scenarios by deep link, by command and by text; back returns to the main menu', async () => {
    scene = await Scene.start()
    const { api } = scene
    const deepLinked = await scene.reply(alice, () => api.sendCommand(alice, 'start', 'onboarding'))
    expect(deepLinked.message!.text).toBe("Hi! Let's get you set up. It takes less than a minute.")

    const byCommand = await scene.reply(alice, () => api.sendCommand(alice, 'support'))
    expect(byCommand.message!.text).toBe('What do you need help with?')
    const byText = await scene.reply(bob, () => api.sendText(bob, 'Help'))
    expect(byText.message!.text).toBe('What do you need help with?')
    expect(buttonsOf(byText)).toEqual([
      [
        ['Billing', 'b:sup_billing'],
        ['Technical issue', 'b:sup_tech'],
      ],
      [['Back', 'b:back']],
    ])

    const contact = await scene.reply(bob, () => api.clickButton(bob, byText, 'b:sup_tech'))
    expect(contact.message!.text).toBe('Write to support@example.com and we will answer within one business day.')
    expect(contact.message!.reply_markup).toBeUndefined()
    // A double tap: the second edit changes nothing; Telegram says so and the bot lets it be.
    const since = api.mark()
    api.clickButton(bob, byText, 'b:sup_tech', { force: true })
    const again = await api.waitForCall((c) => c.method === 'editMessageText', { since })
    expect(again.response).toMatchObject({ ok: false, description: expect.stringContaining('message is not modified') })
    // `back` returns to the step before; from the first step, to the main menu.
    const topic = await scene.reply(bob, () => api.clickButton(bob, byText, 'b:back', { force: true }))
    expect(topic.message!.text).toBe('What do you need help with?')
    const menu = await scene.reply(bob, () => api.clickButton(bob, topic, 'b:back'))
    expect(menu.message!.text).toBe(WELCOME)
    expect(buttonsOf(menu)).toEqual(MAIN_MENU)
    expect(api.calls.slice(since).filter((c) => c.method === 'sendMessage')).toEqual([])

    const unknown = await scene.reply(bob, () => api.sendText(bob, 'what is this?'))
    expect(unknown.message!.text).toBe("Sorry, I didn't get that. Send /start to see the menu.")
  })
})

describe('keyboards and button actions', () => {
  it('a reply keyboard step: labels come back as text and act like the buttons', async () => {
    scene = await Scene.start()
    const { api } = scene
    const support = await scene.admin('scenario/support')
    setKeyboard(support.doc, 'topic', { kind: 'reply' })
    await waitFor(() => projectSpace(scene.bot!.replica.docs()).scenarioDocs.support?.steps.topic.keyboard.kind === 'reply', 'the edit to reach the bot')

    const topic = await scene.reply(alice, () => api.sendCommand(alice, 'support'))
    expect(topic.method).toBe('sendMessage')
    expect(topic.params.reply_markup).toEqual({
      keyboard: [[{ text: 'Billing' }, { text: 'Technical issue' }], [{ text: 'Back' }]],
      resize_keyboard: true,
      one_time_keyboard: true,
    })
    const contact = await scene.reply(alice, () => api.sendText(alice, 'Technical issue'))
    expect(contact.message!.text).toBe('Write to support@example.com and we will answer within one business day.')
    expect(projectActivity(await waitForActivity(scene, 'button:sup_tech:pressed')).counters['button:sup_tech:pressed']).toBe(1)
  })

  it('end returns to the main menu; web_app and callback buttons render and answer', async () => {
    scene = await Scene.start()
    const { api } = scene
    const intro = await scene.reply(alice, () => api.sendCommand(alice, 'start', 'onboarding'))
    const ended = await scene.reply(alice, () => api.clickButton(alice, intro, 'b:ob_later'))
    expect(ended.method).toBe('editMessageText')
    expect(ended.message!.text).toBe(WELCOME)
    expect(buttonsOf(ended)).toEqual(MAIN_MENU)

    const buttons = await scene.admin('buttons')
    const settings = await scene.admin('settings')
    setButton(buttons.doc, 'app', { text: 'Open the app', action: { type: 'web_app', url: 'https://example.com/app' } })
    setButton(buttons.doc, 'ping', { text: 'Ping', action: { type: 'callback', data: 'ping' } })
    setMainMenu(settings.doc, [['start'], ['app', 'ping']])
    await waitFor(
      () => projectSpace(scene.bot!.replica.docs()).settings.mainMenu.length === 2 && 'ping' in projectSpace(scene.bot!.replica.docs()).buttons,
      'the edits to reach the bot',
    )
    const menu = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(menu.message!.reply_markup!.inline_keyboard).toEqual([
      [{ text: 'Get started', callback_data: 'b:start' }],
      [
        { text: 'Open the app', web_app: { url: 'https://example.com/app' } },
        { text: 'Ping', callback_data: 'b:ping' },
      ],
    ])
    // A callback button is answered and counted; the conversation stays where it is.
    const since = api.mark()
    api.clickButton(alice, menu, 'b:ping')
    const answered = await api.waitForCall((c) => c.method === 'answerCallbackQuery', { since })
    expect(answered.status).toBe(200)
    await waitForActivity(scene, 'button:ping:pressed')
    const next = await scene.reply(alice, () => api.clickButton(alice, menu, 'b:start'))
    expect(next.message!.text).toBe("Hi! Let's get you set up. It takes less than a minute.")
    expect(api.calls.slice(since).filter((c) => c.method === 'sendMessage' || c.method === 'editMessageText')).toEqual([next])
  })
})

/** The activity document as an admin sees it, once `counter` is there. */
async function waitForActivity(scene: Scene, counter: string) {
  const client = await scene.admin('activity', 'viewer')
  await waitFor(() => (projectActivity(client.doc).counters[counter] ?? 0) > 0, `activity ${counter}`)
  return client.doc
}

describe('live content', () => {
  it("an editor's new welcome text is in the user's next /start, without a restart", async () => {
    scene = await Scene.start()
    const { api } = scene
    expect((await scene.reply(alice, () => api.sendCommand(alice, 'start'))).message!.text).toBe(WELCOME)

    const editor = await scene.admin('settings')
    setSettingsText(editor.doc, 'welcome', 'Hello from the editor!')
    await waitFor(() => getSettingsText(scene.bot!.replica.settings, 'welcome')?.toString() === 'Hello from the editor!', 'the replica to get the edit')
    const next = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(next.message!.text).toBe('Hello from the editor!')
    expect(buttonsOf(next)).toEqual(MAIN_MENU)
  })

  it('a step deleted under a user gets the fallback, a stale button too, and botEnabled=false the maintenance text', async () => {
    scene = await Scene.start()
    const { api } = scene
    const welcome = await scene.reply(alice, () => api.sendCommand(alice, 'start', 'onboarding'))
    const question = await scene.reply(alice, () => api.clickButton(alice, welcome, 'b:ob_continue'))
    expect(question.message!.text).toBe('What should I call you?')

    const onboarding = await scene.admin('scenario/onboarding')
    removeStep(onboarding.doc, 'ask_name')
    const replicated = () => projectSpace(scene.bot!.replica.docs())
    await waitFor(() => !('ask_name' in replicated().scenarioDocs.onboarding.steps), 'the deletion to reach the bot')
    const fallback = await scene.reply(alice, () => api.sendText(alice, 'Alice'))
    expect(fallback.message!.text).toBe("Sorry, I didn't get that. Send /start to see the menu.")
    expect(buttonsOf(fallback)).toEqual(MAIN_MENU)

    // A button deleted after it was shown.
    const menu = await scene.reply(bob, () => api.sendCommand(bob, 'start'))
    const buttons = await scene.admin('buttons')
    removeButton(buttons.doc, 'support')
    await waitFor(() => !('support' in replicated().buttons), 'the button deletion to reach the bot')
    const answered = api.mark()
    const stale = await scene.reply(bob, () => api.clickButton(bob, menu, 'b:support'))
    expect(stale.method).toBe('editMessageText')
    expect(stale.message!.text).toBe("Sorry, I didn't get that. Send /start to see the menu.")
    // The fresh keyboard no longer offers the deleted button.
    expect(buttonsOf(stale)).toEqual([[['Get started', 'b:start']], [['Website', 'https://example.com']]])
    expect(api.calls.slice(answered).filter((c) => c.method === 'answerCallbackQuery' && c.response.ok)).toHaveLength(1)
    expect(api.unansweredCallbackQueries()).toEqual([])

    const settings = await scene.admin('settings')
    setFlag(settings.doc, 'botEnabled', false)
    await waitFor(() => replicated().settings.flags.botEnabled === false, 'the flag to reach the bot')
    const maintenance = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(maintenance.message!.text).toBe('The bot is under maintenance right now. Please try again later.')
    expect(maintenance.message!.reply_markup).toBeUndefined()
    const click = await scene.reply(bob, () => api.clickButton(bob, stale, 'b:start'))
    expect(click.method).toBe('sendMessage')
    expect(click.message!.text).toBe('The bot is under maintenance right now. Please try again later.')
    expect(api.unansweredCallbackQueries()).toEqual([])
    expect(scene.logged('update-failed')).toEqual([])
  })

  it('an entity that fails validation is left out, with one log line however often it is met', async () => {
    scene = await Scene.start()
    const { api } = scene
    const buttons = await scene.admin('buttons')
    setButtonText(buttons.doc, 'website', '   ')
    await waitFor(() => getButton(scene.bot!.replica.buttons, 'website')?.get('text') === '   ', 'the edit to reach the bot')
    for (let i = 0; i < 3; i++) {
      const menu = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
      expect(buttonsOf(menu)).toEqual([[['Get started', 'b:start']], [['Support', 'b:support']]])
    }
    const skipped = scene.logged('content-skipped').filter((line) => line.path === 'buttons/website/text')
    expect(skipped).toEqual([expect.objectContaining({ document: 'buttons', code: 'button-text-empty', level: 40 })])
  })

  it('an edit that changes nothing ("message is not modified") is ignored', async () => {
    scene = await Scene.start()
    const { api } = scene
    const menu = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    api.failNext('editMessageText', {
      error_code: 400,
      description: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
    })
    const since = api.mark()
    api.clickButton(alice, menu, 'b:support')
    const edit = await api.waitForCall((c) => c.method === 'editMessageText', { since })
    expect(edit.status).toBe(400)
    // The next update is handled normally: nothing was sent instead, nothing failed.
    const next = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(next.message!.text).toBe(WELCOME)
    expect(api.calls.slice(since).filter((c) => c.method === 'sendMessage')).toHaveLength(1)
    expect(scene.logged('update-failed')).toEqual([])
    expect(scene.logged('telegram-error')).toEqual([])
  })
})

describe('activity', () => {
  it("a user's clicks show up in <space>/activity for an admin", async () => {
    scene = await Scene.start()
    const { api } = scene
    const activity = await scene.admin('activity', 'viewer')
    const menu = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    const intro = await scene.reply(alice, () => api.clickButton(alice, menu, 'b:start'))
    await scene.reply(alice, () => api.clickButton(alice, intro, 'b:ob_continue'))
    await scene.reply(alice, () => api.sendText(alice, 'y'.repeat(2000)))

    const counter = (key: string) => projectActivity(activity.doc).counters[key] ?? 0
    await waitFor(() => counter('button:ob_continue:pressed') === 1 && counter('input:rejected') === 1, 'the activity to reach the admin')
    expect(counter('users:started')).toBe(1)
    expect(counter('button:start:pressed')).toBe(1)
    expect(counter('scenario:onboarding:entered')).toBe(1)
    expect(counter('step:onboarding/welcome:reached')).toBe(1)
    expect(counter('step:onboarding/ask_name:reached')).toBe(1)
    const events = projectActivity(activity.doc).events.map(({ at: _at, ...rest }) => rest)
    expect(events).toEqual([
      { type: 'user_started' },
      { type: 'button_pressed', buttonId: 'start' },
      { type: 'scenario_entered', scenarioId: 'onboarding' },
      // Steps named as people know them (their first words: the demo's steps have no title).
      { type: 'step_reached', scenarioId: 'onboarding', stepId: 'welcome', stepTitle: "Hi! Let's get you set up…" },
      { type: 'button_pressed', buttonId: 'ob_continue' },
      { type: 'step_reached', scenarioId: 'onboarding', stepId: 'ask_name', stepTitle: 'What should I call you?' },
      { type: 'input_rejected', scenarioId: 'onboarding', stepId: 'ask_name', stepTitle: 'What should I call you?' },
    ])
  })
})

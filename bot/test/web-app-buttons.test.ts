// web_app buttons that name a page of the bot's own Mini App ("/miniapp#faq")
// reach Telegram resolved against MINIAPP_URL; without it they are left out.
import { projectSpace, setButton, setKeyboard, setMainMenu } from '@botsync/shared-docs'
import { afterEach, describe, expect, it } from 'vitest'
import type { SimUser } from '@botsync/testkit/fake-bot-api'
import { Scene, waitFor } from './helpers.ts'

const alice: SimUser = { id: 1001, first_name: 'Alice' }

const MINIAPP_URL = 'https://bots.example.com/app/miniapp'

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

/**
 * Adds a web_app button for a page of the Mini App, one for another site and
 * one with a query, puts them in the main menu and the support topic step
 * (as a reply keyboard), and waits until the bot has all of it.
 */
async function addWebAppButtons(scene: Scene): Promise<void> {
  const buttons = await scene.admin('buttons')
  const settings = await scene.admin('settings')
  const support = await scene.admin('scenario/support')
  setButton(buttons.doc, 'faq', { text: 'FAQ', action: { type: 'web_app', url: '/miniapp#faq' } })
  setButton(buttons.doc, 'deep', { text: 'Deals', action: { type: 'web_app', url: 'miniapp?startapp=deals' } })
  setButton(buttons.doc, 'other', { text: 'Other app', action: { type: 'web_app', url: 'https://other.example.com/app' } })
  setMainMenu(settings.doc, [['start'], ['faq', 'deep'], ['other']])
  setKeyboard(support.doc, 'topic', { kind: 'reply', rows: [['sup_billing', 'faq']] })
  await waitFor(() => {
    const space = projectSpace(scene.bot!.replica.docs())
    return space.settings.mainMenu.length === 3 && 'other' in space.buttons && space.scenarioDocs.support?.steps.topic.keyboard.kind === 'reply'
  }, 'the edits to reach the bot')
}

describe('web_app buttons for a page of the Mini App', () => {
  it('arrive resolved against MINIAPP_URL, in inline and reply keyboards', async () => {
    scene = await Scene.start({ config: { miniAppUrl: MINIAPP_URL } })
    const { api } = scene
    await addWebAppButtons(scene)

    const menu = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(menu.status).toBe(200)
    expect(menu.message!.reply_markup!.inline_keyboard).toEqual([
      [{ text: 'Get started', callback_data: 'b:start' }],
      [
        // WHATWG resolution: "/…" from the host's root, "miniapp?…" next to MINIAPP_URL's page.
        { text: 'FAQ', web_app: { url: 'https://bots.example.com/miniapp#faq' } },
        { text: 'Deals', web_app: { url: 'https://bots.example.com/app/miniapp?startapp=deals' } },
      ],
      [{ text: 'Other app', web_app: { url: 'https://other.example.com/app' } }],
    ])

    const topic = await scene.reply(alice, () => api.sendCommand(alice, 'support'))
    expect(topic.params.reply_markup).toEqual({
      keyboard: [[{ text: 'Billing' }, { text: 'FAQ', web_app: { url: 'https://bots.example.com/miniapp#faq' } }]],
      resize_keyboard: true,
      one_time_keyboard: true,
    })
    expect(scene.logged('content-skipped')).toEqual([])
  })

  it('are left out without MINIAPP_URL, with one log line each, and the rest of the keyboard still arrives', async () => {
    scene = await Scene.start()
    const { api } = scene
    await addWebAppButtons(scene)

    for (let i = 0; i < 2; i++) {
      const menu = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
      expect(menu.status).toBe(200)
      expect(menu.message!.reply_markup!.inline_keyboard).toEqual([
        [{ text: 'Get started', callback_data: 'b:start' }],
        [{ text: 'Other app', web_app: { url: 'https://other.example.com/app' } }],
      ])
    }
    const topic = await scene.reply(alice, () => api.sendCommand(alice, 'support'))
    expect(topic.params.reply_markup).toEqual({ keyboard: [[{ text: 'Billing' }]], resize_keyboard: true, one_time_keyboard: true })

    const skipped = scene.logged('content-skipped')
    expect(skipped.map((line) => line.path).sort()).toEqual(['buttons/deep/action/url', 'buttons/faq/action/url'])
    expect(skipped.find((line) => line.path === 'buttons/faq/action/url')).toMatchObject({
      space: scene.space,
      document: 'buttons',
      code: 'web-app-url-needs-miniapp-url',
      level: 40,
      msg: expect.stringContaining('MINIAPP_URL is not set'),
    })
    expect(scene.logged('update-failed')).toEqual([])
  })
})

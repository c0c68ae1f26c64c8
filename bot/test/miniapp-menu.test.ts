import { afterEach, describe, expect, it } from 'vitest'
import { Scene } from './helpers.ts'

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

describe('the Mini App menu button', () => {
  it('opens MINIAPP_URL in every chat when it is configured', async () => {
    scene = await Scene.start({ config: { miniAppUrl: 'https://bots.example.com/miniapp', miniAppMenuText: 'Read' } })
    const calls = scene.api.callsOf('setChatMenuButton')
    expect(calls).toHaveLength(1)
    expect(calls[0].status).toBe(200)
    expect(calls[0].params.chat_id).toBeUndefined()
    expect(calls[0].params.menu_button).toEqual({ type: 'web_app', text: 'Read', web_app: { url: 'https://bots.example.com/miniapp' } })
    expect(scene.logs.lines.some((line) => line.event === 'menu-button-set')).toBe(true)
  })

  it('keeps the default menu without MINIAPP_URL', async () => {
    scene = await Scene.start()
    expect(scene.api.callsOf('setChatMenuButton')).toEqual([])
  })

  it('runs on with a clear log line when Telegram refuses the URL', async () => {
    scene = await Scene.start({ config: { miniAppUrl: 'http://not-https.example.com/miniapp' } })
    expect(scene.api.callsOf('setChatMenuButton')[0].status).toBe(400)
    expect(scene.logs.lines.some((line) => line.event === 'menu-button-refused')).toBe(true)
    expect(scene.bot).toBeDefined()
  })
})

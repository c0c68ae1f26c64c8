import { afterEach, describe, expect, it } from 'vitest'
import { RateLimiter } from '../src/telegram/rate-limiter.ts'
import type { SimUser } from '@botsync/testkit/fake-bot-api'
import { Scene } from './helpers.ts'

const alice: SimUser = { id: 3001, first_name: 'Alice' }
const bob: SimUser = { id: 3002, first_name: 'Bob' }
const WELCOME = 'Welcome to the botsync demo bot! Pick an option below.'

describe('RateLimiter', () => {
  it('lets a burst through, then one message a second per chat', () => {
    let now = 0
    const limiter = new RateLimiter({ perChat: { perSecond: 1, burst: 3 }, global: { perSecond: 30, burst: 30 } }, () => now)
    const send = (chat: string) => limiter.reserveChat(chat)
    expect([send('a'), send('a'), send('a')]).toEqual([0, 0, 0])
    expect(send('a')).toBe(1000)
    expect(send('a')).toBe(2000)
    // Another chat is not held up by the first, nor is the global rate booked ahead.
    expect(send('b')).toBe(0)
    expect(limiter.reserveGlobal()).toBe(0)
    now = 10_000 // idle long enough: the burst is back
    expect([send('a'), send('a'), send('a'), send('a')]).toEqual([0, 0, 0, 1000])
  })

  it('keeps all chats together under the global rate', () => {
    let now = 0
    const limiter = new RateLimiter({ perChat: { perSecond: 1, burst: 3 }, global: { perSecond: 30, burst: 30 } }, () => now)
    // Rounded to the microsecond: the due times add up 1000/30 steps.
    const round = (ms: number) => Math.round(ms * 1000) / 1000
    const waits = Array.from({ length: 40 }, (_, i) => round(limiter.reserveChat(`chat-${i}`) + limiter.reserveGlobal()))
    expect(waits.slice(0, 30)).toEqual(Array(30).fill(0))
    // Then one every 1000/30 ms.
    expect(waits[30]).toBe(round(1000 / 30))
    expect(waits[39]).toBe(round(10 * (1000 / 30)))
    now = 2000 // once the queue has drained the full burst is available again
    expect(Array.from({ length: 31 }, () => round(limiter.reserveGlobal())).filter((wait) => wait > 0)).toEqual([round(1000 / 30)])
  })

  it('after a 429 nothing goes to that chat until retry_after has passed', () => {
    let now = 0
    const limiter = new RateLimiter({ perChat: { perSecond: 1, burst: 3 }, global: { perSecond: 30, burst: 30 } }, () => now)
    limiter.pause('a', 5000)
    expect(limiter.reserveChat('a')).toBe(5000)
    expect(limiter.reserveChat('b')).toBe(0)
    now = 5000
    expect(limiter.reserveChat('a')).toBe(1000)
  })
})

let scene: Scene
afterEach(async () => {
  await scene?.close()
})

describe('the bot under Telegram limits', () => {
  it('a 429 waits retry_after and sends again', async () => {
    scene = await Scene.start()
    const { api } = scene
    api.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } })
    const answer = await scene.reply(alice, () => api.sendCommand(alice, 'start'))
    expect(answer.message!.text).toBe(WELCOME)
    const sends = api.callsOf('sendMessage')
    expect(sends.map((c) => c.status)).toEqual([429, 200])
    expect(sends[1].at - sends[0].at).toBeGreaterThanOrEqual(950)
    expect(scene.logged('telegram-retry')).toEqual([expect.objectContaining({ method: 'sendMessage', chat: String(alice.id), code: 429 })])
  })

  it('another API error is logged with method and chat; the user keeps their progress and others are answered', async () => {
    scene = await Scene.start()
    const { api } = scene
    api.addUser(alice)
    api.blockUser(alice.id)
    const since = api.mark()
    api.sendCommand(alice, 'start', 'onboarding')
    const refused = await api.waitForCall((c) => c.method === 'sendMessage', { since })
    expect(refused.status).toBe(403)
    expect((await scene.reply(bob, () => api.sendCommand(bob, 'start'))).message!.text).toBe(WELCOME)
    expect(scene.logged('telegram-error')).toEqual([
      expect.objectContaining({ method: 'sendMessage', chat: String(alice.id), code: 403, description: 'Forbidden: bot was blocked by the user' }),
    ])
    // The update was not lost: Alice is in the onboarding scenario, whose first step has no input.
    api.unblockUser(alice.id)
    const next = await scene.reply(alice, () => api.sendText(alice, 'hello?'))
    expect(next.message!.text).toBe("Sorry, I didn't get that. Send /start to see the menu.")
    expect(next.message!.reply_markup?.inline_keyboard.flat().map((b) => b.callback_data)).toEqual(['b:ob_continue', 'b:ob_later'])
  })

  it('a chat sending fast is throttled to about one message a second without holding up other chats', async () => {
    scene = await Scene.start()
    const { api } = scene
    const since = api.mark()
    const sentToAlice = () => api.calls.slice(since).filter((c) => c.method === 'sendMessage' && c.params.chat_id === alice.id)
    for (let i = 0; i < 5; i++) api.sendCommand(alice, 'start')
    await api.waitForCall(() => sentToAlice().length === 3, { since })
    // Alice's next answers wait for her slots; Bob, writing now, does not wait behind them.
    const bobAnswer = await scene.reply(bob, () => api.sendCommand(bob, 'start'))
    await api.waitForCall(() => sentToAlice().length === 5, { since, timeoutMs: 10_000 })
    const toAlice = sentToAlice()
    expect(toAlice.map((c) => c.status)).toEqual([200, 200, 200, 200, 200])
    // Three at once, then one a second.
    expect(toAlice[3].at - toAlice[0].at).toBeGreaterThanOrEqual(900)
    expect(toAlice[4].at - toAlice[3].at).toBeGreaterThanOrEqual(900)
    expect(bobAnswer.at).toBeLessThan(toAlice[3].at)
  })
})

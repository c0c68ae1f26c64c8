import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeBotApi } from '../src/fake-bot-api/fake-bot-api.ts'
import type { ApiResponse, Message, SimUser, Update } from '../src/fake-bot-api/types.ts'

const TOKEN = '123456:TEST-token_abc'
const alice: SimUser = { id: 1001, first_name: 'Alice', username: 'alice' }

// telegraf is optional here: the real-bot test runs only when it is installed.
const telegrafModuleName = 'telegraf'
const telegraf = (await import(telegrafModuleName).catch(() => undefined)) as { Telegraf: new (token: string, options: unknown) => any } | undefined

let api: FakeBotApi

beforeEach(async () => {
  api = new FakeBotApi({ token: TOKEN })
  await api.start()
})

afterEach(async () => {
  await api.stop()
})

async function call<T = unknown>(method: string, params: Record<string, unknown> = {}, token = TOKEN): Promise<{ status: number; body: ApiResponse<T> }> {
  const res = await fetch(`${api.apiRoot}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  })
  return { status: res.status, body: (await res.json()) as ApiResponse<T> }
}

async function ok<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
  const { status, body } = await call<T>(method, params)
  if (!body.ok) throw new Error(`${method} failed: ${status} ${body.description}`)
  return body.result
}

const keyboard = (data: string) => ({ inline_keyboard: [[{ text: 'Go', callback_data: data }]] })

describe('FakeBotApi — HTTP surface', () => {
  it('answers 401 Unauthorized for a wrong token and 404 for an unknown method', async () => {
    expect(await call('getMe', {}, '999:wrong')).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    })
    expect(await call('getMeNow')).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: 'Not Found: method not found' },
    })
    expect(api.calls.map((c) => [c.method, c.status])).toEqual([
      ['getMe', 401],
      ['getMeNow', 404],
    ])
  })

  it('getMe returns the bot user (GET works too)', async () => {
    const res = await fetch(`${api.apiRoot}/bot${TOKEN}/getMe`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(await res.json()).toEqual({
      ok: true,
      result: {
        id: 123456,
        is_bot: true,
        first_name: 'Botsync Test',
        username: 'botsync_test_bot',
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
        can_connect_to_business: false,
        has_main_web_app: false,
      },
    })
  })

  it('accepts urlencoded and multipart bodies and decodes JSON-string fields', async () => {
    api.addUser(alice)
    const form = new URLSearchParams({ chat_id: String(alice.id), text: 'form', reply_markup: JSON.stringify(keyboard('a')) })
    const r1 = await fetch(`${api.apiRoot}/bot${TOKEN}/sendMessage`, { method: 'POST', body: form })
    const b1 = (await r1.json()) as ApiResponse<Message>
    expect(b1.ok && b1.result.reply_markup).toEqual(keyboard('a'))

    const multipart = new FormData()
    multipart.set('chat_id', String(alice.id))
    multipart.set('text', 'multi')
    multipart.set('reply_markup', JSON.stringify(keyboard('b')))
    multipart.set('document', new Blob(['hello']), 'hello.txt')
    const r2 = await fetch(`${api.apiRoot}/bot${TOKEN}/sendMessage`, { method: 'POST', body: multipart })
    const b2 = (await r2.json()) as ApiResponse<Message>
    expect(b2.ok && b2.result.text).toBe('multi')
    expect(b2.ok && b2.result.reply_markup).toEqual(keyboard('b'))
    expect(api.callsOf('sendMessage')[1]!.params['document']).toEqual({
      filename: 'hello.txt',
      contentType: 'application/octet-stream',
      size: 5,
      bytes: new TextEncoder().encode('hello'),
    })
  })
})

describe('FakeBotApi — getUpdates', () => {
  it('long poll returns as soon as a user sends text', async () => {
    const started = Date.now()
    const poll = call<Update[]>('getUpdates', { timeout: 30 })
    await new Promise((r) => setTimeout(r, 100))
    const sent = api.sendText(alice, 'hello')
    const { body } = await poll
    expect(Date.now() - started).toBeLessThan(2000)
    expect(body.ok).toBe(true)
    const updates = body.ok ? body.result : []
    expect(updates).toEqual([sent])
    expect(updates[0]).toMatchObject({
      message: {
        message_id: 1,
        from: { id: alice.id, is_bot: false, first_name: 'Alice', username: 'alice' },
        chat: { id: alice.id, type: 'private', first_name: 'Alice', username: 'alice' },
        text: 'hello',
      },
    })
    expect(typeof updates[0]!.message!.date).toBe('number')
    expect(updates[0]!.message!.entities).toBeUndefined()
  })

  it('returns [] after the timeout when nothing arrives', async () => {
    const started = Date.now()
    expect((await call('getUpdates', { timeout: 1 })).body).toEqual({ ok: true, result: [] })
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
  })

  it('offset confirms (drops) earlier updates; limit caps the batch', async () => {
    const u1 = api.sendText(alice, 'one')
    const u2 = api.sendText(alice, 'two')
    const u3 = api.sendText(alice, 'three')
    expect(u2.update_id).toBe(u1.update_id + 1)
    expect(await ok<Update[]>('getUpdates', { limit: 2 })).toEqual([u1, u2])
    // Not confirmed yet: same again.
    expect((await ok<Update[]>('getUpdates', {})).map((u) => u.update_id)).toEqual([u1.update_id, u2.update_id, u3.update_id])
    expect(await ok<Update[]>('getUpdates', { offset: u2.update_id + 1 })).toEqual([u3])
    expect(api.pendingUpdateCount).toBe(1)
    expect(await ok<Update[]>('getUpdates', { offset: u3.update_id + 1, timeout: 0 })).toEqual([])
    expect(api.pendingUpdateCount).toBe(0)
  })

  it('a second getUpdates terminates the pending one with 409, and stop() releases polls', async () => {
    const first = call('getUpdates', { timeout: 30 })
    await new Promise((r) => setTimeout(r, 50))
    const second = call('getUpdates', { timeout: 30 })
    expect(await first).toEqual({
      status: 409,
      body: {
        ok: false,
        error_code: 409,
        description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      },
    })
    await new Promise((r) => setTimeout(r, 50))
    await api.stop()
    expect((await second).body).toEqual({ ok: true, result: [] })
    await api.start() // for afterEach
  })

  it('an aborted long poll (telegraf stop) is dropped silently; updates stay queued', async () => {
    const controller = new AbortController()
    const aborted = fetch(`${api.apiRoot}/bot${TOKEN}/getUpdates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ timeout: 50 }),
      signal: controller.signal,
    }).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 50))
    controller.abort()
    expect(await aborted).toMatchObject({ name: 'AbortError' })
    await new Promise((r) => setTimeout(r, 50)) // let the server notice the closed socket
    const update = api.sendText(alice, 'after abort')
    expect(await ok<Update[]>('getUpdates', { limit: 1 })).toEqual([update])
    expect(api.callsOf('getUpdates').map((c) => c.status)).toEqual([200])
  })

  it('commands carry a bot_command entity (deep-link payload, @botname)', () => {
    const deep = api.sendCommand(alice, 'start', 'abc')
    expect(deep.message!.text).toBe('/start abc')
    expect(deep.message!.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }])
    const mention = api.sendText(alice, '/help@botsync_test_bot now')
    expect(mention.message!.entities).toEqual([{ type: 'bot_command', offset: 0, length: 22 }])
    expect(api.sendText(alice, 'not /a command').message!.entities).toBeUndefined()
  })
})

describe('FakeBotApi — messages', () => {
  it('sendMessage returns a full Message with per-chat incrementing ids', async () => {
    api.sendText(alice, 'hi') // message_id 1 in the shared private-chat sequence
    const m = await ok<Message>('sendMessage', { chat_id: alice.id, text: '  Welcome!\n', reply_markup: keyboard('go') })
    expect(m).toEqual({
      message_id: 2,
      from: { id: 123456, is_bot: true, first_name: 'Botsync Test', username: 'botsync_test_bot' },
      chat: { id: alice.id, type: 'private', first_name: 'Alice', username: 'alice' },
      date: expect.any(Number),
      text: 'Welcome!',
      reply_markup: keyboard('go'),
    })
    expect((await ok<Message>('sendMessage', { chat_id: String(alice.id), text: 'again' })).message_id).toBe(3)
    // A reply keyboard is accepted but, as on Telegram, not echoed in the Message.
    const rk = await ok<Message>('sendMessage', { chat_id: alice.id, text: 'rk', reply_markup: { keyboard: [['A']] } })
    expect(rk.reply_markup).toBeUndefined()
    expect(api.callsOf('sendMessage')[0]!.message).toEqual(m)
  })

  it('sendMessage validation errors', async () => {
    api.addUser(alice)
    const bad = (description: string) => ({ status: 400, body: { ok: false, error_code: 400, description } })
    expect(await call('sendMessage', { chat_id: alice.id })).toEqual(bad('Bad Request: message text is empty'))
    expect(await call('sendMessage', { chat_id: alice.id, text: '  \n ' })).toEqual(bad('Bad Request: message text is empty'))
    expect(await call('sendMessage', { chat_id: alice.id, text: 'x'.repeat(4097) })).toEqual(bad('Bad Request: message is too long'))
    // link_preview_options is a LinkPreviewOptions object; anything else is refused as Telegram does.
    expect((await ok<Message>('sendMessage', { chat_id: alice.id, text: 'https://example.com', link_preview_options: { is_disabled: true } })).text).toBe('https://example.com')
    expect(await call('sendMessage', { chat_id: alice.id, text: 'hi', link_preview_options: 'off' })).toEqual(bad("Bad Request: can't parse link_preview_options JSON object"))
    expect(await call('sendMessage', { chat_id: alice.id, text: 'hi', link_preview_options: { is_disabled: 'yes' } })).toEqual(
      bad("Bad Request: can't parse link_preview_options JSON object"),
    )
    expect((await call('sendMessage', { chat_id: alice.id, text: 'x'.repeat(4096) })).status).toBe(200)
    expect(await call('sendMessage', { chat_id: alice.id, text: 'k', reply_markup: keyboard('x'.repeat(65)) })).toEqual(bad('Bad Request: BUTTON_DATA_INVALID'))
    // 64 bytes is fine, but 22 × "é" (2 bytes each) = 44 bytes + 21 = 65 bytes is not.
    expect((await call('sendMessage', { chat_id: alice.id, text: 'k', reply_markup: keyboard('x'.repeat(64)) })).status).toBe(200)
    expect((await call('sendMessage', { chat_id: alice.id, text: 'k', reply_markup: keyboard('é'.repeat(22) + 'x'.repeat(21)) })).body).toMatchObject({
      description: 'Bad Request: BUTTON_DATA_INVALID',
    })
    expect(await call('sendMessage', { chat_id: 424242, text: 'who?' })).toEqual(bad('Bad Request: chat not found'))
    expect(await call('sendMessage', { chat_id: alice.id, text: '*oops.', parse_mode: 'MarkdownV2' })).toEqual(
      bad("Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"),
    )
    api.blockUser(alice.id)
    expect(await call('sendMessage', { chat_id: alice.id, text: 'hi' })).toEqual({
      status: 403,
      body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' },
    })
  })

  it('parse_mode HTML becomes plain text + entities', async () => {
    api.addUser(alice)
    const m = await ok<Message>('sendMessage', { chat_id: alice.id, text: '<b>Hi</b> &amp; <a href="https://x.org">link</a>', parse_mode: 'HTML' })
    expect(m.text).toBe('Hi & link')
    expect(m.entities).toEqual([
      { type: 'bold', offset: 0, length: 2 },
      { type: 'text_link', offset: 5, length: 4, url: 'https://x.org' },
    ])
  })

  it('explicit entities are checked as Telegram checks them: UTF-16 ranges within the text, text_link URLs', async () => {
    api.addUser(alice)
    const bad = (description: string) => ({ status: 400, body: { ok: false, error_code: 400, description } })
    const text = ' 👍🏽 Привет, Zoë ' // sent with the spaces; Telegram trims them after checking
    const u16 = (s: string) => Buffer.from(s, 'utf16le').length / 2
    const entities = [
      { type: 'bold', offset: u16(' 👍🏽 '), length: u16('Привет') },
      { type: 'text_link', offset: u16(' 👍🏽 Привет, '), length: u16('Zoë '), url: 'tg://resolve?domain=zoe' },
    ]
    const m = await ok<Message>('sendMessage', { chat_id: alice.id, text, entities, parse_mode: 'HTML' })
    expect(m.text).toBe('👍🏽 Привет, Zoë')
    expect(m.entities).toEqual([
      { type: 'bold', offset: u16('👍🏽 '), length: u16('Привет') },
      { type: 'text_link', offset: u16('👍🏽 Привет, '), length: u16('Zoë'), url: 'tg://resolve?domain=zoe' },
    ])
    // As a JSON string too (a form body).
    expect((await call('sendMessage', { chat_id: alice.id, text: 'ab', entities: JSON.stringify([{ type: 'italic', offset: 0, length: 2 }]) })).status).toBe(200)
    for (const url of ['https://example.com/a?b#c', 'http://x.org', 'example.com/path', 'tg://user?id=1']) {
      expect((await call('sendMessage', { chat_id: alice.id, text: 'link', entities: [{ type: 'text_link', offset: 0, length: 4, url }] })).status).toBe(200)
    }

    // 👍🏽 is 4 code units: an entity counting it as 1 or 2 ends beyond the text.
    expect(await call('sendMessage', { chat_id: alice.id, text: 'ok 👍🏽', entities: [{ type: 'bold', offset: 3, length: 5 }] })).toEqual(
      bad("Bad Request: can't parse entities: Entity 0 (bold) ends at UTF-16 offset 8, beyond the end of the text (7)"),
    )
    expect((await call('sendMessage', { chat_id: alice.id, text: 'ok 👍🏽', entities: [{ type: 'bold', offset: 3, length: 4 }] })).status).toBe(200)
    for (const url of ['javascript:alert(1)', 'ftp://x.org', 'https://', 'not a url', '']) {
      expect(await call('sendMessage', { chat_id: alice.id, text: 'link', entities: [{ type: 'text_link', offset: 0, length: 4, url }] })).toEqual(
        bad(`Bad Request: can't parse entities: Wrong URL ${JSON.stringify(url)} of text_link entity 0`),
      )
    }
    expect(await call('sendMessage', { chat_id: alice.id, text: 'x', entities: [{ type: 'blink', offset: 0, length: 1 }] })).toEqual(
      bad("Bad Request: can't parse entities: Unsupported entity type in entity 0"),
    )
    expect(await call('sendMessage', { chat_id: alice.id, text: 'x', entities: [{ type: 'bold', offset: -1, length: 1 }] })).toEqual(
      bad("Bad Request: can't parse entities: Wrong offset or length of entity 0"),
    )
    // editMessageText checks them alike.
    expect(await call('editMessageText', { chat_id: alice.id, message_id: m.message_id, text: 'ab', entities: [{ type: 'code', offset: 1, length: 2 }] })).toEqual(
      bad("Bad Request: can't parse entities: Entity 0 (code) ends at UTF-16 offset 3, beyond the end of the text (2)"),
    )
  })

  it('editMessageText: edits, "not modified", unknown id, keyboard dropped when omitted', async () => {
    api.addUser(alice)
    const m = await ok<Message>('sendMessage', { chat_id: alice.id, text: 'v1', reply_markup: keyboard('a') })
    const notModified =
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message'
    expect(await call('editMessageText', { chat_id: alice.id, message_id: m.message_id, text: 'v1', reply_markup: keyboard('a') })).toEqual({
      status: 400,
      body: { ok: false, error_code: 400, description: notModified },
    })
    const edited = await ok<Message>('editMessageText', { chat_id: alice.id, message_id: m.message_id, text: 'v2', reply_markup: keyboard('a') })
    expect(edited).toMatchObject({ message_id: m.message_id, text: 'v2', reply_markup: keyboard('a'), edit_date: expect.any(Number) })
    // Same text without reply_markup removes the keyboard: that is a modification.
    const noKb = await ok<Message>('editMessageText', { chat_id: alice.id, message_id: m.message_id, text: 'v2' })
    expect(noKb.reply_markup).toBeUndefined()
    expect((await call('editMessageReplyMarkup', { chat_id: alice.id, message_id: m.message_id })).body).toMatchObject({ description: notModified })
    expect((await ok<Message>('editMessageReplyMarkup', { chat_id: alice.id, message_id: m.message_id, reply_markup: keyboard('b') })).reply_markup).toEqual(keyboard('b'))
    expect((await call('editMessageText', { chat_id: alice.id, message_id: 999, text: 'x' })).body).toMatchObject({
      error_code: 400,
      description: 'Bad Request: message to edit not found',
    })
    expect(await ok('deleteMessage', { chat_id: alice.id, message_id: m.message_id })).toBe(true)
    expect((await call('deleteMessage', { chat_id: alice.id, message_id: m.message_id })).body).toMatchObject({
      description: 'Bad Request: message to delete not found',
    })
    expect(api.messagesIn(alice.id)).toEqual([])
  })

  it('failNext makes the next call fail once with the given body (429 + retry_after)', async () => {
    api.addUser(alice)
    api.failNext('sendMessage', { error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } })
    expect(await call('sendMessage', { chat_id: alice.id, text: 'a' })).toEqual({
      status: 429,
      body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } },
    })
    expect((await call('sendMessage', { chat_id: alice.id, text: 'a' })).status).toBe(200)
    expect(api.callsOf('sendMessage').map((c) => c.status)).toEqual([429, 200])
  })

  it('clickButton sends a real-shaped callback_query; answerCallbackQuery works once', async () => {
    const m = await (async () => {
      api.addUser(alice)
      return ok<Message>('sendMessage', { chat_id: alice.id, text: 'Pick', reply_markup: keyboard('step:2') })
    })()
    const update = api.clickButton(alice, m, 'step:2')
    expect(update.callback_query).toEqual({
      id: expect.stringMatching(/^\d+$/),
      from: { id: alice.id, is_bot: false, first_name: 'Alice', username: 'alice' },
      message: m,
      chat_instance: expect.stringMatching(/^-?\d+$/),
      data: 'step:2',
    })
    expect(await ok<Update[]>('getUpdates', {})).toEqual([update])
    expect(api.unansweredCallbackQueries()).toEqual([update.callback_query!.id])
    expect(await ok('answerCallbackQuery', { callback_query_id: update.callback_query!.id })).toBe(true)
    expect((await call('answerCallbackQuery', { callback_query_id: update.callback_query!.id })).body).toMatchObject({
      description: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
    })
    expect(() => api.clickButton(alice, m, 'nope')).toThrow(/no button with callback_data "nope"/)
    expect(api.clickButtonByText(alice, m, 'Go').callback_query!.data).toBe('step:2')
  })

  it('commands, menu button and webhook bookkeeping', async () => {
    expect(await ok('setMyCommands', { commands: [{ command: 'start', description: 'Start' }] })).toBe(true)
    expect(await ok('getMyCommands')).toEqual([{ command: 'start', description: 'Start' }])
    expect((await call('setMyCommands', { commands: [{ command: 'Bad-Cmd', description: 'x' }] })).status).toBe(400)
    expect(await ok('getChatMenuButton')).toEqual({ type: 'commands' })
    const wa = { type: 'web_app', text: 'Open', web_app: { url: 'https://example.org/app' } }
    expect(await ok('setChatMenuButton', { menu_button: wa })).toBe(true)
    expect(await ok('getChatMenuButton')).toEqual(wa)
    expect(await ok('deleteWebhook', { drop_pending_updates: false })).toBe(true)
    expect(await ok('getWebhookInfo')).toEqual({ url: '', has_custom_certificate: false, pending_update_count: 0 })
  })
})

describe('FakeBotApi — webhook', () => {
  it('delivers updates with the secret header, retries a failing webhook with backoff, counts pending updates; getUpdates is 409 meanwhile', async () => {
    // A webhook that fails its first two requests, then accepts.
    const received: { headers: IncomingMessage['headers']; body: Update }[] = []
    let failures = 2
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (failures-- > 0) {
          res.writeHead(500).end()
          return
        }
        received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString()) as Update })
        res.writeHead(200).end()
      })
    })
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve))
    try {
      expect((await call('setWebhook', { url: 'http://insecure.example/hook' })).status).toBe(400)
      expect((await call('setWebhook', { url: 'https://bot.example/hook', secret_token: 'bad secret!' })).body).toEqual({
        ok: false,
        error_code: 400,
        description: 'Bad Request: secret token contains unallowed characters',
      })
      api.routeWebhookTo([`http://127.0.0.1:${(hook.address() as AddressInfo).port}`])
      expect(await ok('setWebhook', { url: 'https://bot.example/hook?x=1', secret_token: 'S3cret_-token' })).toBe(true)
      const polled = await call('getUpdates', { timeout: 0 })
      expect(polled).toEqual({
        status: 409,
        body: { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" },
      })
      const sent = api.sendText(alice, 'hi')
      await new Promise((resolve) => setTimeout(resolve, 50))
      const pending = await ok<{ url: string; pending_update_count: number; last_error_message?: string }>('getWebhookInfo')
      expect(pending).toMatchObject({
        url: 'https://bot.example/hook?x=1',
        pending_update_count: 1,
        last_error_message: 'Wrong response from the webhook: 500 Internal Server Error',
      })
      const start = Date.now()
      while (received.length === 0 && Date.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(received.map((r) => r.body)).toEqual([sent])
      expect(received[0].headers['x-telegram-bot-api-secret-token']).toBe('S3cret_-token')
      const attempts = api.webhookDeliveries.map((d) => [d.attempt, d.status])
      expect(attempts).toEqual([
        [1, 500],
        [2, 500],
        [3, 200],
      ])
      // Backoff: the third attempt waited longer after the second than the second after the first.
      const [first, second, third] = api.webhookDeliveries.map((d) => d.at)
      expect(third - second).toBeGreaterThan(second - first)
      expect(api.webhookDeliveries[0].url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hook\?x=1$/)
      expect((await ok<{ pending_update_count: number }>('getWebhookInfo')).pending_update_count).toBe(0)
      expect(await ok('deleteWebhook')).toBe(true)
      expect((await call('getUpdates', { timeout: 0 })).status).toBe(200)
    } finally {
      await new Promise((resolve) => hook.close(resolve))
    }
  })

  it('a second concurrent getUpdates consumer ends the first one with 409 Conflict', async () => {
    const first = call('getUpdates', { timeout: 5 })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const second = call('getUpdates', { timeout: 0 })
    expect(await first).toEqual({
      status: 409,
      body: { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' },
    })
    expect((await second).status).toBe(200)
  })
})

describe('FakeBotApi — awaiting the bot', () => {
  it('nextCall / waitForCall / nextMessageTo resolve with matching calls', async () => {
    api.addUser(alice)
    const mark = api.mark()
    await ok('sendMessage', { chat_id: alice.id, text: 'early' })
    expect((await api.waitForCall((c) => c.params['text'] === 'early', { since: mark })).method).toBe('sendMessage')
    const next = api.nextCall('sendMessage')
    const toAlice = api.nextMessageTo(alice.id)
    await ok('sendMessage', { chat_id: alice.id, text: 'later' })
    expect((await next).params['text']).toBe('later')
    expect((await toAlice).message!.text).toBe('later')
  })

  it('nextCall times out with a clear error listing recent calls', async () => {
    api.addUser(alice)
    await ok('sendMessage', { chat_id: alice.id, text: 'something else' })
    await call('getUpdates', { timeout: 0 })
    const error = await api.nextCall('editMessageText', { timeoutMs: 100 }).catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(Error)
    expect(error.message).toContain('timed out after 100ms waiting for a editMessageText call')
    expect(error.message).toContain(`sendMessage chat_id=${alice.id} text="something else" → ok`)
    expect(error.message).toContain('1 getUpdates poll omitted')
  })
})

describe.skipIf(!telegraf)('FakeBotApi — with a real telegraf bot', () => {
  it('a Telegraf bot answers /start, then a button press, through the fake', async () => {
    const bot = new telegraf!.Telegraf(TOKEN, { telegram: { apiRoot: api.apiRoot } })
    bot.start((ctx: any) =>
      ctx.reply(`Welcome, ${ctx.from.first_name}! payload=${ctx.payload}`, {
        reply_markup: { inline_keyboard: [[{ text: 'Next', callback_data: 'next' }]] },
      }),
    )
    bot.action('next', async (ctx: any) => {
      await ctx.answerCbQuery()
      await ctx.editMessageText('Step 2')
    })
    const launched = bot.launch()
    try {
      api.sendCommand(alice, 'start', 'abc')
      const reply = await api.nextMessageTo(alice.id)
      expect(reply.message!.text).toBe('Welcome, Alice! payload=abc')

      api.clickButton(alice, reply, 'next')
      const edit = await api.nextMessageTo(alice.id)
      expect(edit.method).toBe('editMessageText')
      expect(edit.message).toMatchObject({ message_id: reply.message!.message_id, text: 'Step 2' })
      expect(edit.message!.reply_markup).toBeUndefined()
      expect(api.unansweredCallbackQueries()).toEqual([])
      expect(api.calls.slice(0, 2).map((c) => c.method)).toEqual(['getMe', 'deleteWebhook'])
    } finally {
      bot.stop('test')
      await launched
    }
    // telegraf confirms the last offset when it stops: nothing is left pending.
    expect(api.pendingUpdateCount).toBe(0)
  })
})

// The chat simulator's Telegram: answers as Telegram does (Message shapes,
// increasing ids, 400s where Telegram refuses) and records what was sent,
// media included, without any network.
import { TelegramError } from 'telegraf'
import { describe, expect, it } from 'vitest'
import { RecordingTelegram } from '../src/simulator/recording-telegram.ts'

const PHOTO = 'b'.repeat(64)

describe('RecordingTelegram', () => {
  it('records messages with increasing ids, edits in place, and refuses what Telegram refuses', async () => {
    const telegram = new RecordingTelegram(42, { id: 1, first_name: 'Bot', username: 'sim_bot' })
    const sent = (await telegram.callApi('sendMessage', { chat_id: 42, text: 'Hi', link_preview_options: { is_disabled: true } })) as { message_id: number; chat: { id: number } }
    const next = (await telegram.callApi('sendMessage', { chat_id: 42, text: 'Again' })) as { message_id: number }
    expect(next.message_id).toBe(sent.message_id + 1)
    expect(sent.chat.id).toBe(42)
    await telegram.callApi('editMessageText', { chat_id: 42, message_id: sent.message_id, text: 'Hi there' })
    const answer = telegram.take()
    expect(answer.sent.map((m) => [m.text, m.linkPreview])).toEqual([
      ['Hi', false],
      ['Again', true],
    ])
    expect(answer.edited.map((m) => [m.messageId, m.text])).toEqual([[sent.message_id, 'Hi there']])
    expect(telegram.take()).toEqual({ sent: [], edited: [] })

    const refused = (call: Promise<unknown>) =>
      call.then(
        () => null,
        (error: unknown) => (error instanceof TelegramError ? [error.code, error.description] : error),
      )
    expect(await refused(telegram.callApi('editMessageText', { chat_id: 42, message_id: 999, text: 'x' }))).toEqual([400, 'Bad Request: message to edit not found'])
    expect(await refused(telegram.callApi('editMessageText', { chat_id: 42, message_id: sent.message_id, text: 'Hi there' }))).toEqual([
      400,
      expect.stringContaining('message is not modified'),
    ])
    expect(await refused(telegram.callApi('sendMessage', { chat_id: 42, text: ' ' }))).toEqual([400, 'Bad Request: message text is empty'])
  })

  it('records a photo with its caption and an album item by item, without uploading', async () => {
    const telegram = new RecordingTelegram(42, { id: 1, first_name: 'Bot', username: 'sim_bot' })
    await telegram.callApi('sendPhoto', { chat_id: 42, photo: PHOTO, caption: 'A caption', caption_entities: [{ type: 'bold', offset: 0, length: 1 }] })
    const album = (await telegram.callApi('sendMediaGroup', {
      chat_id: 42,
      media: [
        { type: 'photo', media: PHOTO, caption: 'First' },
        { type: 'video', media: { source: Buffer.from('bytes') } },
      ],
    } as never)) as unknown as { message_id: number }[]
    expect(album).toHaveLength(2)
    const { sent } = telegram.take()
    expect(sent.map((m) => [m.method, m.text, m.media])).toEqual([
      ['sendPhoto', 'A caption', [{ kind: 'photo', id: PHOTO }]],
      ['sendMediaGroup', 'First', [{ kind: 'photo', id: PHOTO }]],
      ['sendMediaGroup', '', [{ kind: 'video' }]],
    ])
    expect(sent[0].entities).toEqual([{ type: 'bold', offset: 0, length: 1 }])
    // A media message has a caption, not a text: editMessageText is refused, so the runner sends anew.
    await expect(telegram.callApi('editMessageText', { chat_id: 42, message_id: album[0].message_id, text: 'x' })).rejects.toThrow('there is no text in the message to edit')
  })
})

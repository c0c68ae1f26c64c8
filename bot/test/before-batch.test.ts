// UpdatePoller's beforeBatch (read-your-writes: SpaceReplica.catchUp): awaited
// once per fetched batch, before any update of it is handled.
import pino from 'pino'
import { Telegram } from 'telegraf'
import type { Update } from 'telegraf/types'
import { afterEach, expect, it } from 'vitest'
import { FakeBotApi } from '@botsync/testkit/fake-bot-api'
import { UpdatePoller } from '../src/telegram/update-poller.ts'
import { TELEGRAM_TOKEN, waitFor } from './helpers.ts'

let api: FakeBotApi | undefined
let poller: UpdatePoller | undefined
afterEach(async () => {
  await poller?.stop()
  await api?.stop()
})

it('beforeBatch runs once per fetched batch, and no update of the batch is handled before it resolves', async () => {
  api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  const order: string[] = []
  const batches: number[][] = []
  let release: () => void = () => {}
  const users = [1, 2, 3].map((id) => ({ id: 8800 + id, first_name: `U${id}` }))
  // Three updates of three chats waiting before the first poll: one batch.
  for (const user of users) api.sendCommand(user, 'start')
  poller = new UpdatePoller({
    telegram: new Telegram(TELEGRAM_TOKEN, { apiRoot: api.apiRoot }),
    log: pino({ level: 'silent' }),
    pollTimeoutSeconds: 1,
    beforeBatch: async (updates: Update[]) => {
      batches.push(updates.map((update) => update.update_id))
      order.push(`before:${updates.length}`)
      await new Promise<void>((resolve) => (release = resolve))
    },
    handle: async (update) => {
      order.push(`handle:${update.update_id}`)
    },
  })
  poller.start()
  await waitFor(() => batches.length === 1, 'the first batch')
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(order).toEqual(['before:3'])
  release()
  await waitFor(() => order.length === 4, 'the batch to be handled')
  expect(order[0]).toBe('before:3')
  expect(order.slice(1).sort()).toEqual(batches[0].map((id) => `handle:${id}`).sort())
  // A later update is its own batch, with its own beforeBatch.
  api.sendCommand(users[0], 'start')
  await waitFor(() => batches.length === 2, 'the second batch')
  expect(batches[1]).toHaveLength(1)
  release()
  await waitFor(() => order.length === 6, 'the second batch to be handled')
})

// The inbox worker's beforeBatch (read-your-writes: SpaceReplica.catchUp):
// awaited once per batch of claimed updates, before any update of it is handled.
import pino from 'pino'
import type { Update } from 'telegraf/types'
import { afterEach, expect, it } from 'vitest'
import { InboxWorker } from '../src/inbox/inbox-worker.ts'
import { UpdateInbox } from '../src/inbox/update-inbox.ts'
import { PgPoolClient } from '../src/session/pg-pool-client.ts'
import { DATABASE_URL, uniqueSpace, waitFor } from './helpers.ts'

let db: PgPoolClient | undefined
let worker: InboxWorker | undefined
afterEach(async () => {
  await worker?.stop()
  await db?.close()
})

function start(chatId: number, updateId: number): Update {
  const from = { id: chatId, is_bot: false, first_name: `U${chatId}` }
  return {
    update_id: updateId,
    message: { message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private', first_name: from.first_name }, from, text: '/start' },
  } as Update
}

it('beforeBatch runs once per claimed batch, and no update of the batch is handled before it resolves', async () => {
  db = new PgPoolClient(DATABASE_URL)
  const inbox = new UpdateInbox({ db, botId: 1, space: uniqueSpace(), owner: 'before-batch-test', leaseSeconds: 30 })
  const order: string[] = []
  const batches: number[][] = []
  let release: () => void = () => {}
  worker = new InboxWorker({
    inbox,
    log: pino({ level: 'silent' }),
    idleCheckMs: 50,
    beforeBatch: async (updates: Update[]) => {
      batches.push(updates.map((update) => update.update_id))
      order.push(`before:${updates.length}`)
      await new Promise<void>((resolve) => (release = resolve))
    },
    handle: async (update) => {
      order.push(`handle:${update.update_id}`)
    },
  })
  worker.start()
  // Three updates of three chats recorded and claimed at once: one batch.
  const claimed = await inbox.recordAndClaim([start(8801, 1), start(8802, 2), start(8803, 3)])
  expect(claimed).toHaveLength(3)
  void worker.offer(claimed)
  await waitFor(() => batches.length === 1, 'the first batch')
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(order).toEqual(['before:3'])
  release()
  await waitFor(() => order.length === 4, 'the batch to be handled')
  expect(order[0]).toBe('before:3')
  expect(order.slice(1).sort()).toEqual(batches[0].map((id) => `handle:${id}`).sort())
  // A later update is its own batch, with its own beforeBatch.
  void worker.offer(await inbox.recordAndClaim([start(8801, 4)]))
  await waitFor(() => batches.length === 2, 'the second batch')
  expect(batches[1]).toEqual([4])
  expect(order).toHaveLength(5)
  release()
  await waitFor(() => order.length === 6, 'the second batch to be handled')
})

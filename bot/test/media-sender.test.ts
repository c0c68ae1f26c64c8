// MediaSender.prepare on its own: what makes media unsendable before
// Telegram is asked, each logged once per step and media; a remembered
// file_id means the file is not read at all. File ids in PostgreSQL.
import { createHash, randomInt } from 'node:crypto'
import type { StepMedia } from '@botsync/shared-docs'
import { afterAll, describe, expect, it } from 'vitest'
import type { MediaFiles, StoredMedia } from '../src/media/media-files.ts'
import { MediaSender } from '../src/media/media-sender.ts'
import { PgFileIdStore } from '../src/media/pg-file-id-store.ts'
import { PgPoolClient } from '../src/session/pg-pool-client.ts'
import { DATABASE_URL, captureLogger } from './helpers.ts'

const db = new PgPoolClient(DATABASE_URL)
afterAll(() => db.close())

/** A bot id no other run used (file_ids are kept per bot in the shared database). */
const botId = () => 8_000_000_000 + randomInt(1_000_000_000)
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const place = { scenarioId: 's', stepId: 'one' }

/** MediaFiles over a map, counting reads; `fail` makes every read throw (the server unreachable); reads answer once `gate` resolves. */
function filesOf(entries: Record<string, Uint8Array>, fail = false, gate: Promise<void> = Promise.resolve()): MediaFiles & { reads: string[] } {
  const reads: string[] = []
  return {
    reads,
    async read(id: string): Promise<StoredMedia | null> {
      reads.push(id)
      await gate
      if (fail) throw new Error('connect ECONNREFUSED')
      return Object.hasOwn(entries, id) ? { bytes: entries[id]! } : null
    },
  }
}

function senderWith(files: MediaFiles) {
  const { log, lines } = captureLogger()
  const sender = new MediaSender({ files, fileIds: new PgFileIdStore(db), log })
  const reasons = () => lines.filter((line) => line.event === 'step-media-unusable').map((line) => line.reason)
  return { sender, reasons }
}

describe('MediaSender.prepare', () => {
  it('refuses bytes that do not match their id, a photo over 10 MB and an unreachable server, each logged once', async () => {
    const good = new Uint8Array([1, 2, 3, randomInt(256)])
    const forged = sha256(new Uint8Array([9, 9, 9]))
    const big = new Uint8Array(10 * 1024 * 1024 + 1)
    big[0] = randomInt(256)
    const files = { [forged]: good, [sha256(big)]: big }
    const { sender, reasons } = senderWith(filesOf(files))
    const bot = botId()
    const forgedMedia: StepMedia = { items: [{ id: forged, kind: 'photo' }] }
    expect(await sender.prepare(bot, place, forgedMedia)).toBeNull()
    expect(await sender.prepare(bot, place, forgedMedia)).toBeNull()
    expect(reasons()).toEqual(["the server's bytes do not match the id"])

    expect(await sender.prepare(bot, place, { items: [{ id: sha256(big), kind: 'photo' }] })).toBeNull()
    // The same bytes are a fine document (50 MB).
    expect(await sender.prepare(bot, place, { items: [{ id: sha256(big), kind: 'document' }] })).not.toBeNull()
    expect(reasons().at(-1)).toBe(`${big.length} bytes is over Telegram's upload limit for a photo (${10 * 1024 * 1024})`)

    const down = senderWith(filesOf({}, true))
    expect(await down.sender.prepare(bot, place, { items: [{ id: sha256(good), kind: 'photo' }] })).toBeNull()
    expect(down.reasons()).toEqual(['the server could not be asked for it (connect ECONNREFUSED)'])
  })

  it('refuses albums Telegram would refuse and malformed ids without reading any file', async () => {
    const files = filesOf({})
    const { sender, reasons } = senderWith(files)
    const id = (n: number) => sha256(new Uint8Array([n]))
    const bot = botId()
    const eleven: StepMedia = { items: Array.from({ length: 11 }, (_, i) => ({ id: id(i), kind: 'photo' as const })) }
    expect(await sender.prepare(bot, { scenarioId: 's', stepId: 'a' }, eleven)).toBeNull()
    expect(
      await sender.prepare(
        bot,
        { scenarioId: 's', stepId: 'b' },
        {
          items: [
            { id: id(1), kind: 'photo' },
            { id: id(2), kind: 'document' },
          ],
        },
      ),
    ).toBeNull()
    expect(await sender.prepare(bot, { scenarioId: 's', stepId: 'c' }, { items: [{ id: 'cat.png', kind: 'photo' }] })).toBeNull()
    expect(reasons()).toEqual(['an album of 11 items (at most 10)', 'an album cannot hold a document', 'malformed media id "cat.png"'])
    expect(files.reads).toEqual([])
  })

  it("with a remembered file_id the file is not read; it is this bot's and this kind's only", async () => {
    const bytes = new Uint8Array([7, randomInt(256), randomInt(256)])
    const id = sha256(bytes)
    const files = filesOf({ [id]: bytes })
    const { sender } = senderWith(files)
    const bot = botId()
    await new PgFileIdStore(db).remember(bot, id, 'photo', 'AgACremembered')
    const prepared = await sender.prepare(bot, place, { items: [{ id, kind: 'photo' }] })
    expect(prepared?.items).toEqual([{ ref: { id, kind: 'photo' }, fileId: 'AgACremembered' }])
    expect(files.reads).toEqual([])
    // Another bot, or the same file as a document: read and uploaded.
    expect((await sender.prepare(bot + 1, place, { items: [{ id, kind: 'photo' }] }))?.items[0]).toMatchObject({ upload: { bytes } })
    expect((await sender.prepare(bot, place, { items: [{ id, kind: 'document' }] }))?.items[0]).toMatchObject({ upload: { bytes } })
    expect(files.reads).toEqual([id, id])
  })

  it('users reaching a new file at once download it once', async () => {
    const bytes = new Uint8Array([5, randomInt(256), randomInt(256)])
    const id = sha256(bytes)
    let open = () => {}
    const files = filesOf({ [id]: bytes }, false, new Promise<void>((resolve) => (open = resolve)))
    // Counts file_id look-ups done: after the third, every prepare has asked for the bytes.
    class CountingStore extends PgFileIdStore {
      looked = 0
      override async get(...args: Parameters<PgFileIdStore['get']>): Promise<string | null> {
        try {
          return await super.get(...args)
        } finally {
          this.looked++
        }
      }
    }
    const store = new CountingStore(db)
    const sender = new MediaSender({ files, fileIds: store, log: captureLogger().log })
    const bot = botId()
    const media: StepMedia = { items: [{ id, kind: 'photo' }] }
    const preparing = Promise.all([1, 2, 3].map(() => sender.prepare(bot, place, media)))
    // The download answers only once all three are waiting for it.
    await expect.poll(() => store.looked).toBe(3)
    open()
    const all = await preparing
    expect(all.map((p) => p?.items[0]?.upload?.bytes)).toEqual([bytes, bytes, bytes])
    expect(files.reads).toEqual([id])
  })
})

// The bare-socket reader the readers10k benchmark opens by the thousand,
// against the real reader gateway: it syncs, follows edits (also one too big
// for a 7-bit frame length), answers the heartbeat, and hears refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docName, setSettingsText } from '@botsync/shared-docs'
import type { BotsyncServer } from '@botsync/server'
import { readersUrlOf, seedPublicWelcome, startServer, uniqueSpace, waitFor } from '../src/server.ts'
import { signInitData } from '../src/init-data.ts'
import { BareReader } from '../src/bare-reader.ts'

const TELEGRAM_TOKEN = `123456:bare-${uniqueSpace()}`
const PING_INTERVAL_MS = 200

describe('BareReader', () => {
  let server: BotsyncServer
  let space: string
  let url: string

  beforeAll(async () => {
    space = uniqueSpace()
    server = await startServer({ TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, BOT_SPACE: space, READER_PING_INTERVAL_MS: String(PING_INTERVAL_MS) })
    url = readersUrlOf(server)
    await seedPublicWelcome(server, space)
  })
  afterAll(async () => {
    await server.stop()
  })

  it('syncs, receives updates of any size and stays connected across heartbeats', async () => {
    const reader = await BareReader.connect(url, docName.public(space), signInitData(TELEGRAM_TOKEN))
    const updates: Uint8Array[] = []
    reader.onUpdate = (update) => updates.push(update)
    await server.writer.change(docName.settings(space), (doc) => setSettingsText(doc, 'welcome', 'Hi there'))
    await waitFor(() => updates.length >= 1, 'a small update')
    const before = updates.length
    // Over 125 bytes (16-bit length) and over 64 KiB (64-bit length).
    for (const size of [500, 70_000]) {
      const count = updates.length
      await server.writer.change(docName.settings(space), (doc) => setSettingsText(doc, 'welcome', 'x'.repeat(size)))
      await waitFor(() => updates.length > count, `an update of ${size} bytes`)
      expect(Math.max(...updates.slice(count).map((update) => update.length))).toBeGreaterThan(size)
    }
    expect(updates.length).toBeGreaterThan(before)
    // A reader that did not answer would be dropped within two periods.
    await new Promise((resolve) => setTimeout(resolve, 4 * PING_INTERVAL_MS))
    expect(server.readers.readers).toBe(1)
    reader.close()
    await waitFor(() => server.readers.readers === 0, 'the reader to leave')
  })

  it('rejects with the reason when the gateway refuses the initData', async () => {
    await expect(BareReader.connect(url, docName.public(space), signInitData('654321:another-bot'))).rejects.toThrow('permission denied: init-data-invalid-signature')
  })
})

import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Database } from '../src/index.ts'
import { engines } from './helpers.ts'

async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

for (const [engine, open] of engines) {
  describe(`listen (${engine})`, () => {
    let db: Database
    beforeAll(async () => {
      db = await open()
    })
    afterAll(() => db.close())

    it('delivers NOTIFY payloads on its channel until stopped', async () => {
      // A channel of this test alone: other files share the database.
      const channel = `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`
      const heard: string[] = []
      const stop = await db.listen(channel, { onNotify: (payload) => heard.push(payload) })
      await db.query('SELECT pg_notify($1, $2)', [channel, 'first'])
      await db.query('SELECT pg_notify($1, $2)', ['some_other_channel', 'not for us'])
      await waitFor(() => heard.length === 1, 'the notification')
      expect(heard).toEqual(['first'])
      await stop()
      await db.query('SELECT pg_notify($1, $2)', [channel, 'after stop'])
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(heard).toEqual(['first'])
    })

    if (engine === 'postgres') {
      it('re-establishes a lost LISTEN link and says so', async () => {
        const channel = `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`
        const heard: string[] = []
        let reconnects = 0
        const stop = await db.listen(channel, { onNotify: (payload) => heard.push(payload), onReconnect: () => (reconnects += 1) })
        try {
          // What a PostgreSQL restart or a dropped connection does to the listening session.
          // Two statements: the pid first, then exactly that backend, nothing else on the shared server.
          const listening = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [`botsync listen ${channel}`])
          expect(listening).toHaveLength(1)
          await db.query('SELECT pg_terminate_backend($1)', [listening[0].pid])
          await waitFor(() => reconnects === 1, 'the reconnection')
          await db.query('SELECT pg_notify($1, $2)', [channel, 'after the reconnection'])
          await waitFor(() => heard.length === 1, 'the notification on the new link')
          expect(heard).toEqual(['after the reconnection'])
        } finally {
          await stop()
        }
      })
    }
  })
}

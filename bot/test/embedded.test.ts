import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DocumentStore, openDatabase } from '@botsync/persistence'
import { demoSeed } from '@botsync/shared-docs'
import { afterEach, expect, it } from 'vitest'
import { spawnServer, type ServerProcess } from '../../server/test/helpers.ts'
import { FakeBotApi } from '../src/testing/fake-bot-api.ts'
import { DATABASE_URL, TELEGRAM_TOKEN, uniqueSpace, waitFor } from './helpers.ts'

let api: FakeBotApi | undefined
let server: ServerProcess | undefined
afterEach(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL')
  await api?.stop()
})

it('npm start runs the bot in the server process when TELEGRAM_BOT_TOKEN is set, and stops it on SIGTERM', async () => {
  const space = uniqueSpace()
  const db = await openDatabase({ databaseUrl: DATABASE_URL })
  const store = new DocumentStore(db)
  for (const [name, update] of demoSeed(space)) await store.append(name, update)
  await db.close()

  api = new FakeBotApi({ token: TELEGRAM_TOKEN })
  await api.start()
  const dataDir = mkdtempSync(join(tmpdir(), 'botsync-embedded-'))
  server = await spawnServer({ BOT_SPACE: space, DATA_DIR: dataDir, TELEGRAM_BOT_TOKEN: TELEGRAM_TOKEN, TELEGRAM_API_ROOT: api.apiRoot })
  const user = { id: 4001, first_name: 'Dana' }
  // The bot logs once it polls; an update sent earlier would wait in the fake's queue anyway.
  await waitFor(() => server!.output.some((line) => line.includes('"bot-started"')), 'the embedded bot to start', 20_000)
  const since = api.mark()
  api.sendCommand(user, 'start')
  const answer = await api.nextMessageTo(user.id, { since, timeoutMs: 10_000 })
  expect(answer.message!.text).toBe('Welcome to the botsync demo bot! Pick an option below.')

  server.child.kill('SIGTERM')
  expect(await server.exited).toBe(0)
  const logged = server.output.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>]
    } catch {
      return []
    }
  })
  expect(logged.some((entry) => entry.event === 'bot-started' && entry.component === 'bot' && entry.space === space)).toBe(true)
  expect(logged.some((entry) => entry.event === 'bot-stopped')).toBe(true)
  // The replica was saved where the next start will read it.
  expect(existsSync(join(dataDir, 'bot-replica.json'))).toBe(true)
})
